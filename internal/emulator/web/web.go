// Package web is the emulator's browser inbox: a static page (HTML, CSS and
// vanilla JavaScript, embedded, no CDN, no build step) that talks to the
// emulator's /_emulator/ JSON API and its Server-Sent Events stream.
//
// It imports nothing of the emulator: the page only knows the HTTP API, so
// whatever the page can do, a script with curl can do too.
package web

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

//go:embed static
var static embed.FS

// Assets is the embedded file tree (index.html, app.js, app.css), for tests.
func Assets() fs.FS {
	sub, _ := fs.Sub(static, "static") // "static" is embedded, so Sub cannot fail
	return sub
}

// contentTypes are set explicitly rather than from the system's MIME
// tables, which differ between machines.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
}

// CSP allows only the page's own files and its own origin's API. Attachment
// previews (images, video, audio from http(s) URLs a server sent) are the one
// outside exception: showing them is the point of the inbox.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; " +
	"img-src 'self' data: http: https:; media-src http: https:; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Handler serves the page at / and its assets at /assets/NAME; any other
// path is a 404. Mount it last: it answers everything its mux leaves over.
func Handler() http.Handler {
	files := Assets()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		name := ""
		switch {
		case r.URL.Path == "/" || r.URL.Path == "/index.html":
			name = "index.html"
		case strings.HasPrefix(r.URL.Path, "/assets/"):
			name = strings.TrimPrefix(r.URL.Path, "/assets/")
			if name == "index.html" || strings.Contains(name, "/") {
				name = ""
			}
		}
		data, err := fs.ReadFile(files, name)
		if name == "" || err != nil {
			http.Error(w, "not found: the inbox is at /, the API at /_emulator/", http.StatusNotFound)
			return
		}
		h := w.Header()
		h.Set("Content-Type", contentTypes[path.Ext(name)])
		h.Set("Content-Security-Policy", CSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		if r.Method == http.MethodHead {
			return
		}
		_, _ = w.Write(data)
	})
}
