package cli

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// ccx validate --fetch-media: off by default; on, a problem of the URL is a
// warning at the URL's line:col (exit 0, 1 with --strict).
func TestValidateFetchMedia(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "image/jpeg")
		w.Header().Set("Content-Disposition", `attachment; filename="a.jpg"`)
	}))
	defer srv.Close()
	body := `{"channelId":"c","contactId":"+60177872890","events":[{"type":"message","mId":"m1","timestamp":1732435200000,"message":{"type":"attachment","attachment":{"type":"image","url":"` + srv.URL + `/a.jpg"}}}]}`
	col := strings.Index(body, `"http`) + 1

	r := runCLI(t, nil, false, body, "validate", "-")
	if r.code != 0 || r.stdout != "" || hits.Load() != 0 {
		t.Fatalf("default: exit %d, stdout %q, %d fetches", r.code, r.stdout, hits.Load())
	}
	r = runCLI(t, nil, false, body, "validate", "--fetch-media", "-")
	want := regexp.MustCompile(`^<stdin>:1:\d+: warning media-disposition: events\[0\]\.message\.attachment\.url: attachment URL http://127\.0\.0\.1:\d+/a\.jpg is served with Content-Disposition: attachment; filename="a\.jpg", which forces a download`)
	if r.code != 0 || !want.MatchString(r.stdout) || !strings.Contains(r.stdout, ":1:"+strconv.Itoa(col)+":") {
		t.Errorf("--fetch-media: exit %d, stdout %q (want column %d)", r.code, r.stdout, col)
	}
	if hits.Load() == 0 {
		t.Error("nothing fetched")
	}
	if r := runCLI(t, nil, false, body, "validate", "--fetch-media", "--strict", "-"); r.code != 1 {
		t.Errorf("--strict: exit %d", r.code)
	}
	r = runCLI(t, nil, false, body, "validate", "--fetch-media", "--output", "json", "-")
	if !strings.Contains(r.stdout, `"rule":"media-disposition"`) || !strings.Contains(r.stdout, `"severity":"warning"`) {
		t.Errorf("json: %s", r.stdout)
	}
}
