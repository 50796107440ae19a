package launch

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ccx-cli/ccx/internal/platform"
	"github.com/ccx-cli/ccx/internal/relay"
	"github.com/ccx-cli/ccx/internal/verdict"
)

// FetchStatus asks a relay's admin address; the verdict says how the
// call went whenever it did not. A relay of many channels answers each
// channel's state too (Channels).
func FetchStatus(ctx context.Context, base string, timeout time.Duration) (relay.MultiStats, verdict.Verdict, error) {
	var st relay.MultiStats
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

// ReadSpoolDir reads every spool of a many-channel relay's --spool-dir
// (<channel-id>.db) read-only, while no relay holds them.
func ReadSpoolDir(dir string) (relay.MultiStats, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.db"))
	if err != nil {
		return relay.MultiStats{}, err
	}
	if _, err := os.Stat(dir); err != nil {
		return relay.MultiStats{}, fmt.Errorf("--spool-dir: %w", err)
	}
	if len(paths) == 0 {
		return relay.MultiStats{}, fmt.Errorf("--spool-dir %s holds no spool (<channel-id>.db)", dir)
	}
	var chans []relay.ChannelStats
	for _, p := range paths {
		st, err := relay.ReadStats(p)
		if err != nil {
			return relay.MultiStats{}, err
		}
		chans = append(chans, relay.ChannelStats{Channel: strings.TrimSuffix(filepath.Base(p), ".db"), Stats: st})
	}
	return relay.Combine(chans), nil
}
