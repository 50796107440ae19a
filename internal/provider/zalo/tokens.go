package zalo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/ccx-cli/ccx/internal/fsutil"
	"github.com/ccx-cli/ccx/internal/provider"
	"github.com/ccx-cli/ccx/internal/provider/emukit"
	"github.com/tidwall/gjson"
)

// Tokens are the OA's OAuth tokens, as the token file keeps them.
type Tokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	// ExpiresAt is when the access token expires (zero: unknown, e.g. a
	// token given in the environment).
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// tokenStore holds the tokens; mu is held across a refresh, so refreshes
// are serialised (a single-use refresh token lost to a race would need a
// new OAuth grant).
type tokenStore struct {
	mu  sync.Mutex
	t   Tokens
	o   Options
	now func() time.Time
}

// refreshEarly: an access token this close to its expiry is renewed first.
const refreshEarly = time.Minute

func newTokenStore(o Options) (*tokenStore, error) {
	s := &tokenStore{o: o, now: o.Now, t: Tokens{AccessToken: o.AccessToken, RefreshToken: o.RefreshToken}}
	if o.TokenFile == "" {
		return s, nil
	}
	b, err := os.ReadFile(o.TokenFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return s, nil
	case err != nil:
		return nil, fmt.Errorf("zalo token file: %w", err)
	}
	var t Tokens
	if err := json.Unmarshal(b, &t); err != nil || t.AccessToken == "" && t.RefreshToken == "" {
		return nil, fmt.Errorf("zalo token file %s: not the tokens ccx relay writes (delete it to start again from CCX_ZALO_ACCESS_TOKEN / CCX_ZALO_REFRESH_TOKEN)", o.TokenFile)
	}
	s.t = t // newer than the configured ones: they were spent to get these
	return s, nil
}

func (s *tokenStore) get() Tokens {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.t
}

// current is the access token to use, refreshed first when it is missing
// or about to expire and a refresh token is at hand.
func (s *tokenStore) current(ctx context.Context, a *Adapter) (string, error) {
	t := s.get()
	stale := t.AccessToken == "" || !t.ExpiresAt.IsZero() && !s.now().Before(t.ExpiresAt.Add(-refreshEarly))
	if !stale {
		return t.AccessToken, nil
	}
	if t.RefreshToken == "" {
		if t.AccessToken != "" {
			return t.AccessToken, nil // let Zalo say it expired
		}
		return "", &provider.Error{Status: http.StatusBadRequest, Message: "zalo: no access token and no refresh token (set CCX_ZALO_ACCESS_TOKEN or CCX_ZALO_REFRESH_TOKEN)"}
	}
	tok, err := s.refresh(ctx, a, t.AccessToken)
	if err != nil {
		return "", &provider.Error{Status: http.StatusBadRequest, Message: "Zalo: the access token expired and could not be refreshed: " + err.Error()}
	}
	return tok, nil
}

// refresh trades the refresh token for a new pair, unless the access token
// already changed from stale (another call refreshed it).
func (s *tokenStore) refresh(ctx context.Context, a *Adapter, stale string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.t.AccessToken != stale && s.t.AccessToken != "" {
		return s.t.AccessToken, nil
	}
	if s.t.RefreshToken == "" {
		return "", errors.New("no refresh token (set CCX_ZALO_REFRESH_TOKEN)")
	}
	if s.o.AppSecret == "" {
		return "", errors.New("no app secret to refresh with (set CCX_ZALO_APP_SECRET)")
	}
	form := url.Values{"refresh_token": {s.t.RefreshToken}, "app_id": {s.o.AppID}, "grant_type": {"refresh_token"}}
	hr, err := http.NewRequest(http.MethodPost, s.o.OAuthURL+TokenPath, strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	hr.Header.Set("secret_key", s.o.AppSecret)
	status, _, body, err := provider.Do(ctx, s.o.Client, "Zalo OAuth", hr)
	if err != nil {
		return "", err
	}
	r := gjson.ParseBytes(body)
	at, rt := r.Get("access_token").String(), r.Get("refresh_token").String()
	if status != http.StatusOK || at == "" || rt == "" {
		why := r.Get("error_description").String()
		if why == "" {
			why = r.Get("error_name").String()
		}
		if why == "" {
			why = provider.Snip(string(body))
		}
		code := r.Get("error").String()
		if code == "" {
			code = fmt.Sprint(status)
		}
		hint := ""
		if strings.Contains(strings.ToLower(why), "refresh") {
			hint = "; a refresh token is single-use and lasts about 3 months: a spent or lost one needs a new OAuth grant of the OA"
		}
		return "", fmt.Errorf("the OAuth server refused the refresh (%s %s)%s", code, why, hint)
	}
	s.t = Tokens{AccessToken: at, RefreshToken: rt}
	if sec := r.Get("expires_in").Int(); sec > 0 {
		s.t.ExpiresAt = s.now().Add(time.Duration(sec) * time.Second)
	}
	if s.o.TokenFile != "" {
		b, _ := json.MarshalIndent(s.t, "", "  ")
		if err := fsutil.WritePrivate(s.o.TokenFile, append(b, '\n')); err != nil {
			// The new tokens work until a restart; the old refresh token is spent.
			a.o.Logger.Error("cannot save the refreshed Zalo tokens: after a restart the OA needs a new OAuth grant", "file", s.o.TokenFile, "err", err)
		}
	}
	return at, nil
}

// multipartFile is the upload body: one part "file".
func multipartFile(name, contentType string, data []byte) (io.Reader, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, name))
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	h.Set("Content-Type", contentType)
	pw, _ := mw.CreatePart(h)
	_, _ = pw.Write(data)
	_ = mw.Close()
	return &buf, mw.FormDataContentType()
}

func baseName(u string) string {
	p := u
	if pu, err := url.Parse(u); err == nil {
		p = pu.Path
	}
	if b := path.Base(p); b != "." && b != "/" && b != "" {
		return b
	}
	return "file"
}

func mimeByExt(name string) string { return emukit.MIMEOf("file:///" + url.PathEscape(name)) }
