package clicksend

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/provider"
)

func TestSendEveryType(t *testing.T) {
	f := NewFake()
	defer f.Close()
	a := New(Options{BaseURL: f.URL(), Username: f.Username, APIKey: f.APIKey, From: "ccx"})
	lat, lng := 3.139, 101.6869
	cases := []struct {
		m        channel.Message
		path     string
		contains string
	}{
		{channel.Text("hi"), "/v3/sms/send", `"body":"hi"`},
		{channel.NewAttachment(channel.AttachmentImage, "https://x/a.jpg", "image/jpeg", "a.jpg", "cap"), "/v3/mms/send", `"media_file":"https://x/a.jpg"`},
		{channel.NewAttachment(channel.AttachmentFile, "https://x/a.pdf", "", "a.pdf", ""), "/v3/sms/send", `"body":"📎 a.pdf https://x/a.pdf"`},
		{channel.Message{Type: channel.MessageLocation, Latitude: &lat, Longitude: &lng, Address: "KL"}, "/v3/sms/send", `"body":"📍 KL (3.139,101.6869)"`},
		{channel.QuickReply("Rate", "Good", "Bad"), "/v3/sms/send", `"body":"Rate\n1. Good\n2. Bad"`},
	}
	for _, c := range cases {
		id, err := a.Send(t.Context(), channel.OutgoingRequest{ContactID: "+61411111111", Message: c.m})
		if err != nil || len(id) != 36 {
			t.Fatalf("%s: %q %v", c.m.Type, id, err)
		}
		s := f.Sent()
		got := s[len(s)-1]
		if got.Path != c.path || !strings.Contains(string(got.Body), c.contains) || !strings.Contains(string(got.Body), `"from":"ccx"`) {
			t.Errorf("%s: %s %s", c.m.Type, got.Path, got.Body)
		}
	}
	if _, err := a.Send(t.Context(), channel.OutgoingRequest{ContactID: "+61411111111", Message: channel.CustomPayload([]byte(`{}`))}); err == nil {
		t.Error("custom payload must be unsupported")
	}
}

func TestSendResponseMapping(t *testing.T) {
	for _, c := range []struct {
		status int
		body   string
		want   string
		code   int
		retry  bool
	}{
		{401, `{"http_code":401,"response_code":"UNAUTHORIZED","response_msg":"Unauthorized"}`, "credentials", 400, false},
		{429, `{"http_code":429,"response_code":"TOO_MANY_REQUESTS","response_msg":"slow down"}`, "rate limit", 429, true},
		{500, `{"http_code":500,"response_code":"INTERNAL_SERVER_ERROR"}`, "500", 400, true},
		{400, `{"http_code":400,"response_code":"BAD_REQUEST","response_msg":"Invalid input."}`, "Invalid input", 400, false},
		{200, `{"http_code":200,"response_code":"SUCCESS","data":{"messages":[{"status":"INSUFFICIENT_CREDIT","message_id":"X"}]}}`, "out of credit", 400, false},
		{200, `{"http_code":200,"response_code":"SUCCESS","data":{"messages":[]}}`, "no message", 400, false},
	} {
		_, err := ParseSendResponse(c.status, http.Header{}, []byte(c.body))
		pe, ok := err.(*provider.Error)
		if !ok || !strings.Contains(pe.Message, c.want) || pe.Status != c.code || pe.Retryable != c.retry {
			t.Errorf("%d %s: %+v", c.status, c.body, err)
		}
	}
}

func push(path, ct, body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	r.Header.Set("Content-Type", ct)
	return r
}

func TestInboundAndReceipts(t *testing.T) {
	a := New(Options{Secret: "sec"})
	form := InboundForm("ID1", "+61411111111", "+61400000000", "hi", 1700000000).Encode()
	r := push("/providers/clicksend/inbound/sec", "application/x-www-form-urlencoded", form)
	if err := a.Verify(r, []byte(form)); err != nil {
		t.Fatal(err)
	}
	ins, err := a.Parse(r, []byte(form))
	if err != nil || len(ins) != 1 || ins[0].Message.Text != "hi" || ins[0].Timestamp != 1700000000000 || ins[0].ContactID != "+61411111111" {
		t.Fatalf("%+v %v", ins, err)
	}
	js := `{"message_id":"ID2","from":"+61411111111","body":"json","timestamp":1700000000}`
	ins, err = a.Parse(push("/providers/clicksend/inbound/sec", "application/json", js), []byte(js))
	if err != nil || len(ins) != 1 || ins[0].Message.Text != "json" {
		t.Fatalf("json: %+v %v", ins, err)
	}
	get := httptest.NewRequest(http.MethodGet, "/providers/clicksend/inbound/sec?"+form, nil)
	if ins, err = a.Parse(get, nil); err != nil || len(ins) != 1 {
		t.Fatalf("get: %+v %v", ins, err)
	}
	if err := a.Verify(push("/providers/clicksend/inbound/nope", "", ""), nil); err == nil {
		t.Fatal("wrong secret verified")
	}
	for code, want := range map[string]channel.StatusValue{"200": "sent", "201": "delivered", "301": "failed", "300": "", "999": ""} {
		f := ReceiptForm("ID1", code, "Delivered", 1700000000).Encode()
		ins, err := a.Parse(push("/providers/clicksend/receipt/sec", "application/x-www-form-urlencoded", f), []byte(f))
		if err != nil || (want == "" && len(ins) != 0) || (want != "" && (len(ins) != 1 || ins[0].Status.Value != want)) {
			t.Errorf("receipt %s: %+v %v", code, ins, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add("/providers/clicksend/inbound/s", "application/json", `{"message_id":"1","from":"+1","body":"x"}`)
	f.Add("/providers/clicksend/receipt/s", "application/x-www-form-urlencoded", "message_id=1&status_code=301")
	a := New(Options{Secret: "s"})
	f.Fuzz(func(t *testing.T, path, ct, body string) {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		r.URL.Path = path
		r.Header.Set("Content-Type", ct)
		_ = a.Verify(r, []byte(body))
		_, _ = a.Parse(r, []byte(body))
		_, _ = ParseSendResponse(200, http.Header{}, []byte(body))
	})
}

func TestUnverifiedWithoutSecret(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/providers/clicksend/inbound/x", nil)
	if a := New(Options{}); len(a.Unverified()) != 1 || !a.UnverifiedRequest(r) {
		t.Fatal("no secret: not reported as unverified")
	}
	if a := New(Options{Secret: "s"}); len(a.Unverified()) != 0 || a.UnverifiedRequest(r) {
		t.Fatal("with a secret: reported as unverified")
	}
}
