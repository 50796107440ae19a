package mediacheck

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ccx-cli/ccx/internal/validate"
)

func rules(ps []Problem) string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Rule)
	}
	return strings.Join(out, " ")
}

func TestCheck(t *testing.T) {
	var heads, gets atomic.Int32
	mux := http.NewServeMux()
	serve := func(path, ct, cd string, status int) {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodHead {
				heads.Add(1)
			} else {
				gets.Add(1)
			}
			if ct != "" {
				w.Header().Set("Content-Type", ct)
			}
			if cd != "" {
				w.Header().Set("Content-Disposition", cd)
			}
			w.WriteHeader(status)
			if r.Method == http.MethodGet {
				w.Write([]byte("x"))
			}
		})
	}
	serve("/ok.jpg", "image/jpeg", "inline", 200)
	serve("/plain.jpg", "image/png", "", 200)
	serve("/download.jpg", "image/jpeg", `attachment; filename="a.jpg"`, 200)
	serve("/page.jpg", "text/html; charset=utf-8", "", 200)
	serve("/video.mp4", "application/octet-stream", "", 200)
	serve("/doc.pdf", "application/pdf", "attachment", 200)
	serve("/gone.jpg", "text/plain", "", 404)
	// HEAD refused, GET fine (a URL signed for GET only).
	mux.HandleFunc("/signed.jpg", func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		if r.Header.Get("Range") != "bytes=0-0" {
			t.Errorf("fallback GET without a one-byte range: %q", r.Header.Get("Range"))
		}
		w.Header().Set("Content-Type", "image/jpeg")
		w.WriteHeader(http.StatusPartialContent)
		w.Write([]byte("x"))
	})
	mux.HandleFunc("/to-ftp.jpg", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "ftp://127.0.0.1/a.jpg", http.StatusFound)
	})
	mux.HandleFunc("/to-ok.jpg", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/ok.jpg", http.StatusFound)
	})
	mux.HandleFunc("/loop.jpg", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop.jpg", http.StatusFound)
	})
	hang := make(chan struct{})
	defer close(hang)
	mux.HandleFunc("/slow.jpg", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	// A port nothing listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() + "/a.jpg"
	ln.Close()

	c := New(Options{Timeout: 2 * time.Second})
	tests := []struct {
		path, kind, want string
		msg              string // a substring of the first problem
	}{
		{"/ok.jpg", "image", "", ""},
		{"/plain.jpg", "image", "", ""},
		{"/signed.jpg", "image", "", ""},
		{"/to-ok.jpg", "image", "", ""},
		{"/download.jpg", "image", validate.RuleMediaDisposition, "forces a download; serve it inline"},
		{"/page.jpg", "image", validate.RuleMediaContentType, "text/html: a web page"},
		{"/video.mp4", "video", validate.RuleMediaContentType, "does not fit a video attachment"},
		{"/video.mp4", "file", "", ""},
		{"/doc.pdf", "file", validate.RuleMediaDisposition, "Content-Disposition: attachment"},
		{"/gone.jpg", "image", validate.RuleMediaStatus, "answers 404 Not Found"},
		{"/to-ftp.jpg", "image", validate.RuleMediaUnreachable, "redirects to a scheme other than http(s)"},
		{"/loop.jpg", "image", validate.RuleMediaUnreachable, "more than 5 redirects"},
		{closed, "image", validate.RuleMediaUnreachable, "cannot be fetched"},
	}
	for _, tt := range tests {
		u := tt.path
		if strings.HasPrefix(u, "/") {
			u = srv.URL + u
		}
		ps := c.Check(context.Background(), u, tt.kind)
		if got := rules(ps); got != tt.want {
			t.Errorf("%s (%s): %q %+v, want %q", tt.path, tt.kind, got, ps, tt.want)
			continue
		}
		if tt.msg != "" && !strings.Contains(ps[0].Message, tt.msg) {
			t.Errorf("%s: message %q lacks %q", tt.path, ps[0].Message, tt.msg)
		}
	}

	// Bounded time: a server that never answers is unreachable after the timeout.
	quick := New(Options{Timeout: 100 * time.Millisecond})
	if got := rules(quick.Check(context.Background(), srv.URL+"/slow.jpg", "image")); got != validate.RuleMediaUnreachable {
		t.Errorf("slow: %q", got)
	}

	// Not http(s): nothing to fetch (url-invalid is the validator's).
	if ps := c.Check(context.Background(), "ftp://127.0.0.1/a.jpg", "image"); ps != nil {
		t.Errorf("ftp: %+v", ps)
	}

	// A URL is fetched once per checker.
	h0, g0 := heads.Load(), gets.Load()
	c.Check(context.Background(), srv.URL+"/ok.jpg", "image")
	if heads.Load() != h0 || gets.Load() != g0 {
		t.Errorf("cached URL fetched again")
	}
}

// The validator lists attachment URLs with their position; AddFindings turns
// problems into warnings located there, in line order.
func TestAddFindings(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
	}))
	defer srv.Close()
	body := "{\"channelId\":\"c\",\"contactId\":\"+60177872890\",\"events\":[{\"type\":\"message\",\"mId\":\"m1\",\"timestamp\":1732435200000,\n" +
		"\"message\":{\"type\":\"attachment\",\"attachment\":{\"type\":\"image\",\"url\":\"" + srv.URL + "/a.jpg\"}}}],\"contact\":{\"countryCode\":\"my\"}}"
	r := validate.Bytes([]byte(body), validate.Options{Media: true})
	if len(r.Media) != 1 || r.Media[0].Kind != "image" || r.Media[0].Path != "events[0].message.attachment.url" || r.Media[0].Line != 2 {
		t.Fatalf("media %+v", r.Media)
	}
	AddFindings(context.Background(), New(Options{}), &r)
	var got []string
	for _, f := range r.Findings {
		got = append(got, f.Rule+"@"+f.Path)
		if f.Rule == validate.RuleMediaContentType && (f.Severity != validate.Warning || f.Column != strings.Index(strings.Split(body, "\n")[1], `"http`)+1) {
			t.Errorf("finding %+v", f)
		}
	}
	if g := strings.Join(got, " "); g != "media-content-type@events[0].message.attachment.url contact-field@contact.countryCode" {
		t.Errorf("findings %s", g)
	}
	// Without Options.Media the validator lists nothing.
	if r := validate.Bytes([]byte(body), validate.Options{}); r.Media != nil {
		t.Errorf("media without the option: %+v", r.Media)
	}
}
