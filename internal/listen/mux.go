package listen

import (
	"net/http"
	"time"

	"github.com/ccx-cli/ccx/internal/ui"
	"github.com/ccx-cli/ccx/internal/validate"
)

// NewMux routes path (normally /message) to h, answers GET /healthz with
// 200 {"ok":true}, and every other path with a JSON 404 that is still
// reported to OnCall: a call to the wrong path is the commonest set-up
// mistake (an API base URL that already ends in /message).
func NewMux(path string, h *Handler) http.Handler {
	if path == "" {
		path = "/message"
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case path:
			h.ServeHTTP(w, r)
		case "/healthz":
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"ok":true}` + "\n"))
		default:
			h.notFound(w, r, path)
		}
	})
}

func (h *Handler) notFound(w http.ResponseWriter, r *http.Request, path string) {
	start := time.Now()
	body, _, _ := readBody(r.Body, h.opts.MaxBody)
	c := Call{ID: h.nextID(), Time: start, Method: r.Method, Path: ui.RedactURI(r.URL.RequestURI(), h.opts.Token), Remote: r.RemoteAddr,
		Header: RedactHeader(r.Header, h.opts.Token), Body: body, Auth: AuthSkipped, Findings: []validate.Finding{}}
	h.writeError(w, &c, http.StatusNotFound, "no route "+r.URL.Path+": the platform calls <API base URL>"+path)
	c.Latency = time.Since(start)
	if h.opts.OnCall != nil {
		h.opts.OnCall(h.public(c))
	}
}
