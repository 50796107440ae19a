// Command bare is bench/listen.sh's baseline: the /message job `ccx listen
// --json` does, written the plain net/http way. It checks the Bearer token
// (constant time), POST and the JSON content type, reads the body (1 MiB
// cap), decodes it with encoding/json and checks channelId, contactId and
// message.type, answers 200 {"mId": <random>} (or 4xx {"error":{...}}), and
// logs one NDJSON line per call on stdout (time, method, path, headers
// without the Authorization value, body, status, reply, latency).
//
//	CCX_API_TOKEN=... go run ./bench/bare -addr 127.0.0.1:3042 > calls.ndjson
package main

import (
	"bufio"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"mime"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

type message struct {
	ChannelID string `json:"channelId"`
	ContactID string `json:"contactId"`
	Message   *struct {
		Type string `json:"type"`
		Text string `json:"text,omitempty"`
	} `json:"message"`
}

type record struct {
	Time      time.Time   `json:"time"`
	Method    string      `json:"method"`
	Path      string      `json:"path"`
	Header    http.Header `json:"header"`
	Body      string      `json:"body"`
	Status    int         `json:"status"`
	ReplyBody string      `json:"replyBody"`
	LatencyMS float64     `json:"latencyMs"`
}

func main() {
	addr := flag.String("addr", "127.0.0.1:3042", "listen address")
	flag.Parse()
	token := []byte(os.Getenv("CCX_API_TOKEN"))
	if len(token) == 0 {
		log.Fatal("CCX_API_TOKEN is required")
	}
	out := bufio.NewWriter(os.Stdout)
	var mu sync.Mutex
	enc := json.NewEncoder(out)
	logCall := func(r *http.Request, start time.Time, body []byte, status int, reply []byte) {
		h := r.Header.Clone()
		if h.Get("Authorization") != "" {
			h.Set("Authorization", "[redacted]")
		}
		rec := record{Time: start, Method: r.Method, Path: r.URL.Path, Header: h, Body: string(body),
			Status: status, ReplyBody: string(reply), LatencyMS: float64(time.Since(start).Microseconds()) / 1000}
		mu.Lock()
		defer mu.Unlock()
		_ = enc.Encode(rec)
		_ = out.Flush() // one write per call, as ccx listen does
	}
	answer := func(w http.ResponseWriter, status int, v any) []byte {
		b, _ := json.Marshal(v)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(b)
		return b
	}
	fail := func(w http.ResponseWriter, status int, msg string) []byte {
		return answer(w, status, map[string]any{"error": map[string]string{"message": msg}})
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, `{"ok":true}`) })
	mux.HandleFunc("/message", func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20+1))
		var reply []byte
		status := http.StatusOK
		auth, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		var m message
		switch {
		case !ok || subtle.ConstantTimeCompare([]byte(auth), token) != 1:
			status, reply = http.StatusUnauthorized, fail(w, http.StatusUnauthorized, "invalid API token")
		case r.Method != http.MethodPost:
			status, reply = http.StatusMethodNotAllowed, fail(w, http.StatusMethodNotAllowed, "POST only")
		case err != nil || len(body) > 1<<20:
			status, reply = http.StatusRequestEntityTooLarge, fail(w, http.StatusRequestEntityTooLarge, "body too large")
		case mt != "application/json":
			status, reply = http.StatusUnsupportedMediaType, fail(w, http.StatusUnsupportedMediaType, "send application/json")
		case json.Unmarshal(body, &m) != nil || m.ChannelID == "" || m.ContactID == "" || m.Message == nil || m.Message.Type == "":
			status, reply = http.StatusBadRequest, fail(w, http.StatusBadRequest, "invalid body")
		default:
			var id [16]byte
			_, _ = rand.Read(id[:])
			reply = answer(w, http.StatusOK, map[string]string{"mId": hex.EncodeToString(id[:])})
		}
		logCall(r, start, body, status, reply)
	})
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	fmt.Fprintln(os.Stderr, "bare listening on", *addr)
	log.Fatal(srv.ListenAndServe())
}
