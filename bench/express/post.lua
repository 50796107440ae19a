-- wrk script: POST one outgoing text message with the Bearer token.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("CCX_API_TOKEN")
wrk.body = '{"channelId":"gfd8g7fd89dgfd","contactId":"+60177872890","message":{"type":"text","text":"Hello from the benchmark"}}'
