package cli

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Flag bounds: every numeric, duration and URL flag says what it accepts
// where it is defined, and checkFlagBounds (the root's pre-run) refuses
// anything else with exit 2, naming the flag and the range. Keeping the rule
// next to the flag means no command can forget it, and an audit test checks
// that every such flag has one. NaN and ±Inf never pass.

// boundKey is the flag annotation holding a bound: [lo, hi, use] for a
// number (durations in nanoseconds) or [boundURL] for a URL.
const boundKey = "ccx_bound"

const boundURL = "url"

type number interface {
	~int | ~int64 | ~float64
}

// limitFlag bounds flag name of fs to [lo, hi]; use says the range in words
// ("0 (no limit) or more requests per second") for the error message.
func limitFlag[T number](fs *pflag.FlagSet, name string, lo, hi T, use string) {
	annotate(fs, name, []string{ftoa(float64(lo)), ftoa(float64(hi)), use})
}

// urlFlag makes flag name of fs an absolute http(s) URL with a host (or empty).
func urlFlag(fs *pflag.FlagSet, name string) {
	annotate(fs, name, []string{boundURL})
}

// Wording shared by flags of several commands.
const (
	usePort     = "0-65535 (0 picks a free port)"
	useRate     = "0 (no limit) or a positive number per second, e.g. 10"
	usePositive = "a positive duration, e.g. 10s"
	useNonNeg   = "0 or a positive duration, e.g. 300ms"
)

// noMax is the upper bound of an unbounded integer flag.
const noMax = math.MaxInt64

func annotate(fs *pflag.FlagSet, name string, v []string) {
	if err := fs.SetAnnotation(name, boundKey, v); err != nil {
		panic("flag bound on " + name + ": " + err.Error()) // a typo in a flag name: caught by every test
	}
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// checkFlagBounds checks every flag given on the command line against its bound.
func checkFlagBounds(cmd *cobra.Command) error {
	var err error
	cmd.Flags().Visit(func(fl *pflag.Flag) {
		if err == nil {
			err = checkBound(fl)
		}
	})
	if err != nil {
		return UsageErrorf(err)
	}
	return nil
}

// checkBound judges one flag's current value; nil when it has no bound.
func checkBound(fl *pflag.Flag) error {
	b := fl.Annotations[boundKey]
	switch {
	case len(b) == 1 && b[0] == boundURL:
		return checkURLValue(fl.Name, fl.Value.String())
	case len(b) != 3:
		return nil
	}
	lo, _ := strconv.ParseFloat(b[0], 64)
	hi, _ := strconv.ParseFloat(b[1], 64)
	var v float64
	var perr error
	if fl.Value.Type() == "duration" {
		var d time.Duration
		d, perr = time.ParseDuration(fl.Value.String())
		v = float64(d)
	} else {
		v, perr = strconv.ParseFloat(fl.Value.String(), 64)
	}
	if perr != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < lo || v > hi {
		return fmt.Errorf("invalid --%s %s: use %s", fl.Name, fl.Value.String(), b[2])
	}
	return nil
}

func checkURLValue(name, s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("invalid --%s %q: use an absolute http:// or https:// URL with a host, e.g. http://127.0.0.1:3030", name, s)
	}
	return nil
}
