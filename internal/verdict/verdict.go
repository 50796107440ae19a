// Package verdict is the one vocabulary every network command uses to say how
// a call went ("verdict" in --json). The CLI maps each word to an exit code;
// feature packages only classify.
package verdict

import (
	"bytes"
	"net/http"
	"strings"

	"github.com/tidwall/gjson"
)

// Verdict is how one call (or a whole run) went.
type Verdict string

const (
	OK          Verdict = "ok"           // accepted, and the reply is what the contract asks
	Refused     Verdict = "refused"      // a well-formed refusal (4xx with error.message)
	Auth        Verdict = "auth"         // the credentials were rejected (401/403)
	NoRoute     Verdict = "no-route"     // 404: the URL names nothing
	RateLimited Verdict = "rate-limited" // 429: slow down (Retry-After)
	ServerError Verdict = "server-error" // 5xx
	WrongReply  Verdict = "wrong-reply"  // an answer that breaks the contract (HTML, no mId, ...)
	Timeout     Verdict = "timeout"      // no answer within the timeout
	Network     Verdict = "network"      // no HTTP answer at all (refused, reset, DNS)
	Failed      Verdict = "failed"       // a suite (check) with at least one failed check
	Interrupted Verdict = "interrupted"  // stopped by SIGINT/SIGTERM
)

// Entry documents one verdict.
type Entry struct {
	Verdict Verdict
	Meaning string
}

// All lists the verdicts in the order help pages show them.
var All = []Entry{
	{OK, "accepted with a valid reply"},
	{Refused, "a well-formed refusal: 4xx with {\"error\":{\"message\"}}"},
	{Auth, "credentials rejected: 401 or 403, whatever the body"},
	{NoRoute, "404: nothing answers at that URL; it is probably wrong (often .../message doubled)"},
	{RateLimited, "429 (after retries, where the command retries): slow down"},
	{ServerError, "5xx from the remote"},
	{WrongReply, "an answer that breaks the contract: HTML, 200 without mId, 4xx without error.message"},
	{Failed, "ccx check: at least one check failed"},
	{Timeout, "no answer within --timeout"},
	{Network, "no HTTP answer: connection refused or reset, DNS"},
	{Interrupted, "stopped by SIGINT/SIGTERM"},
}

// OfStatus classifies an HTTP answer by what any caller can tell from it:
// status, content type and whether the body carries error.message. Contract
// checks that need more (a /message reply's mId) refine OK into WrongReply.
func OfStatus(status int, header http.Header, body []byte) Verdict {
	switch {
	case status >= 200 && status < 300:
		if IsHTML(header, body) {
			return WrongReply
		}
		return OK
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return Auth
	case status == http.StatusTooManyRequests:
		return RateLimited
	case status == http.StatusNotFound:
		// Whatever the body: every endpoint ccx calls is a single route, so
		// a 404 says the URL is wrong (a refusal uses 400/422).
		return NoRoute
	case status >= 400 && status < 500:
		return Refused
	case status >= 500:
		return ServerError
	}
	return WrongReply
}

// IsHTML reports whether an answer is a web page (a login page, a proxy's
// error page, a site's home page): never what an API answers.
func IsHTML(header http.Header, body []byte) bool {
	if header != nil && strings.Contains(strings.ToLower(header.Get("Content-Type")), "text/html") {
		return true
	}
	b := bytes.TrimSpace(body)
	if len(b) > 15 {
		b = b[:15]
	}
	s := strings.ToLower(string(b))
	return strings.HasPrefix(s, "<!doctype html") || strings.HasPrefix(s, "<html")
}

// HasErrorMessage reports whether body is {"error":{"message":"..."}}.
func HasErrorMessage(body []byte) bool {
	return gjson.GetBytes(body, "error.message").Type == gjson.String
}
