package web

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, method, path string) *http.Response {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec.Result()
}

func TestServesPageAndAssetsWithContentTypes(t *testing.T) {
	h := Handler()
	cases := []struct{ path, ctype, contains string }{
		{"/", "text/html; charset=utf-8", `<script src="/assets/app.js" defer></script>`},
		{"/index.html", "text/html; charset=utf-8", "<main"},
		{"/assets/app.js", "text/javascript; charset=utf-8", "EventSource"},
		{"/assets/app.css", "text/css; charset=utf-8", "@media"},
	}
	for _, c := range cases {
		resp := get(t, h, http.MethodGet, c.path)
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Errorf("GET %s: %d", c.path, resp.StatusCode)
			continue
		}
		if got := resp.Header.Get("Content-Type"); got != c.ctype {
			t.Errorf("GET %s: Content-Type %q, want %q", c.path, got, c.ctype)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Content-Security-Policy") != CSP {
			t.Errorf("GET %s: missing security headers %v", c.path, resp.Header)
		}
		if !strings.Contains(string(body), c.contains) {
			t.Errorf("GET %s: body lacks %q", c.path, c.contains)
		}
	}
	if resp := get(t, h, http.MethodHead, "/"); resp.StatusCode != 200 || resp.Header.Get("Content-Type") == "" {
		t.Errorf("HEAD /: %d", resp.StatusCode)
	}
}

func TestUnknownPathsAndMethods(t *testing.T) {
	h := Handler()
	for _, p := range []string{"/nope", "/assets/", "/assets/nope.js", "/assets/../web.go", "/assets/index.html", "/static/app.js", "/favicon.ico"} {
		if resp := get(t, h, http.MethodGet, p); resp.StatusCode != 404 {
			t.Errorf("GET %s: %d, want 404", p, resp.StatusCode)
		}
	}
	resp := get(t, h, http.MethodPost, "/")
	if resp.StatusCode != 405 || resp.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST /: %d Allow=%q", resp.StatusCode, resp.Header.Get("Allow"))
	}
}

// The page must work with no network: nothing in the assets may point
// outside the emulator's own origin (no CDN, no web fonts, no analytics).
func TestAssetsHaveNoExternalURLs(t *testing.T) {
	external := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9-]+(\.[a-z0-9-]+)+|@import|url\(\s*['"]?[a-z]+:`)
	n := 0
	err := fs.WalkDir(Assets(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		n++
		data, err := fs.ReadFile(Assets(), p)
		if err != nil {
			return err
		}
		if m := external.FindString(string(data)); m != "" {
			t.Errorf("%s refers to something outside the page: %q", p, m)
		}
		if _, ok := contentTypes[pathExt(p)]; !ok {
			t.Errorf("%s has no content type mapping", p)
		}
		return nil
	})
	if err != nil || n < 3 {
		t.Fatalf("walked %d assets: %v", n, err)
	}
	// And every script and stylesheet the page loads is one of ours.
	page, _ := fs.ReadFile(Assets(), "index.html")
	refs := regexp.MustCompile(`(?:src|href)="([^"]*)"`).FindAllStringSubmatch(string(page), -1)
	for _, r := range refs {
		ref := r[1]
		switch {
		case ref == "data:," || strings.HasPrefix(ref, "#"):
		case strings.HasPrefix(ref, "/assets/"):
			if _, err := fs.Stat(Assets(), strings.TrimPrefix(ref, "/assets/")); err != nil {
				t.Errorf("index.html loads %s, which is not embedded", ref)
			}
		default:
			t.Errorf("index.html refers to %q", ref)
		}
	}
}

func pathExt(p string) string {
	if i := strings.LastIndex(p, "."); i >= 0 {
		return p[i:]
	}
	return ""
}

// Payload data is never parsed as HTML: the script builds nodes with
// createElement/textContent only.
func TestScriptNeverParsesHTML(t *testing.T) {
	js, err := fs.ReadFile(Assets(), "app.js")
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "createContextualFragment", "DOMParser"} {
		if strings.Contains(string(js), bad) {
			t.Errorf("app.js uses %s", bad)
		}
	}
	html, _ := fs.ReadFile(Assets(), "index.html")
	if regexp.MustCompile(`<script>|\son[a-z]+=`).Match(html) {
		t.Error("index.html has an inline script or event handler (the CSP forbids them)")
	}
}
