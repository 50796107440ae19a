package launch

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/ccx-cli/ccx/internal/platform"
	"github.com/ccx-cli/ccx/internal/relay"
	"github.com/ccx-cli/ccx/internal/verdict"
)

// FetchStatus asks a relay's admin address; the verdict says how the
// call went whenever it did not.
func FetchStatus(ctx context.Context, base string, timeout time.Duration) (relay.Stats, verdict.Verdict, error) {
	var st relay.Stats
	target := strings.TrimRight(base, "/") + "/admin/status"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return st, verdict.Network, err
	}
	resp, err := (&http.Client{Timeout: timeout}).Do(req)
	if err != nil {
		if platform.IsTimeout(err) {
			return st, verdict.Timeout, fmt.Errorf("%s: no answer within %v", target, timeout)
		}
		return st, verdict.Network, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	v := verdict.OfStatus(resp.StatusCode, resp.Header, b)
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return st, v, fmt.Errorf("%s answered 404: the status is on the relay's admin address (--admin-addr, default http://%s), not its public one", target, DefaultAdminAddr)
	case v == verdict.WrongReply:
		return st, v, fmt.Errorf("%s answered %d with a web page, not a relay's status: is --url the relay's admin address?", target, resp.StatusCode)
	case v != verdict.OK || resp.StatusCode != http.StatusOK:
		return st, v, fmt.Errorf("%s answered %d", target, resp.StatusCode)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, verdict.WrongReply, fmt.Errorf("%s: %w", target, err)
	}
	return st, verdict.OK, nil
}
