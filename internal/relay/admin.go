package relay

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// AdminHandler serves what operators read, GET and HEAD only: /metrics
// (Prometheus), /admin/status (the spool state, contact ids redacted) and
// /healthz. It has no authentication: serve it on a loopback address.
func (e *Engine) AdminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(e.met.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/admin/status", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(e.q.Stats().Redacted())
	})
	mux.HandleFunc("/healthz", serveHealth)
	return readOnly(mux)
}

// readOnly answers 405 to anything but GET and HEAD.
func readOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed: the admin routes are read-only (GET, HEAD)", http.StatusMethodNotAllowed)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// Redacted is the state with contact ids cut to their last digits (they are
// customers' phone numbers or chat ids).
func (st Stats) Redacted() Stats {
	if st.Oldest != nil {
		o := *st.Oldest
		o.ContactID = RedactContact(o.ContactID)
		st.Oldest = &o
	}
	return st
}

// RedactContact keeps a contact id's leading "+" and last three characters:
// enough to tell contacts apart in a log, not to reach one.
func RedactContact(id string) string {
	if len(id) <= 4 {
		return strings.Repeat("•", len(id))
	}
	lead := ""
	if strings.HasPrefix(id, "+") {
		lead = "+"
	}
	return lead + "…" + id[len(id)-3:]
}
