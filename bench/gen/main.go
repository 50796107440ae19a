// Command gen writes a deterministic NDJSON corpus of Custom Channel webhook
// bodies for bench/validate.sh: every event type and message type, contact
// blocks, warning cases and a realistic share of invalid payloads (one
// fault each). The same -seed and -n always give the same bytes.
//
//	go run ./bench/gen -n 100000 -seed 1 -o bench/out/corpus.ndjson -small bench/out/small.json
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"
)

type obj = map[string]any

func main() {
	n := flag.Int("n", 100000, "number of payloads")
	seed := flag.Uint64("seed", 1, "random seed")
	invalidPct := flag.Int("invalid", 20, "percentage of invalid payloads")
	out := flag.String("o", "corpus.ndjson", "output NDJSON file")
	small := flag.String("small", "", "also write one small valid payload to this file")
	flag.Parse()

	f, err := os.Create(*out)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	stats, bytes, err := generate(f, *n, *seed, *invalidPct)
	if err == nil {
		err = f.Close()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	g := newGen(*seed + 1)
	if *small != "" {
		data, _ := json.MarshalIndent(g.valid(), "", "  ")
		if err := os.WriteFile(*small, append(data, '\n'), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
	}
	summary, _ := json.Marshal(obj{"payloads": *n, "bytes": bytes, "labels": stats})
	fmt.Fprintln(os.Stderr, string(summary))
}

// generate writes n NDJSON payloads and returns how many carry each label
// and the bytes written.
func generate(out io.Writer, n int, seed uint64, invalidPct int) (map[string]int, int, error) {
	g := newGen(seed)
	w := bufio.NewWriterSize(out, 1<<20)
	stats := map[string]int{}
	bytes := 0
	for i := 0; i < n; i++ {
		line, label := g.payload(g.r.IntN(100) < invalidPct)
		stats[label]++
		bytes += len(line) + 1
		w.Write(line)
		w.WriteByte('\n')
	}
	return stats, bytes, w.Flush()
}

type gen struct {
	r *rand.Rand
}

func newGen(seed uint64) *gen { return &gen{r: rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))} }

func (g *gen) pick(s ...string) string { return s[g.r.IntN(len(s))] }

func (g *gen) hex(n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[g.r.IntN(16)]
	}
	return string(b)
}

func (g *gen) uuid() string {
	return g.hex(8) + "-" + g.hex(4) + "-4" + g.hex(3) + "-a" + g.hex(3) + "-" + g.hex(12)
}

func (g *gen) phone() string {
	cc := g.pick("60", "1", "44", "65", "62", "91", "55", "234")
	var b strings.Builder
	b.WriteString("+" + cc)
	for i := 0; i < 8+g.r.IntN(3); i++ {
		b.WriteByte(byte('0' + g.r.IntN(10)))
	}
	return b.String()
}

var words = strings.Fields(`hello hi thanks order delivery tomorrow please confirm
	price where is my parcel ok great can you help me with the invoice refund
	status tracking number address payment card sorry late today call back
	selamat pagi terima kasih obrigado gracias merci danke 👍 😊 ✅`)

func (g *gen) text(minWords, maxWords int) string {
	n := minWords + g.r.IntN(maxWords-minWords+1)
	parts := make([]string, n)
	for i := range parts {
		parts[i] = words[g.r.IntN(len(words))]
	}
	return strings.Join(parts, " ")
}

func (g *gen) ts() int64 { return 1732435200000 + g.r.Int64N(400*24*3600*1000) }

func (g *gen) message() obj {
	switch p := g.r.IntN(100); {
	case p < 55:
		return obj{"type": "text", "text": g.text(1, 40)}
	case p < 75:
		kind := g.pick("image", "video", "audio", "file")
		ext := map[string]string{"image": "jpg", "video": "mp4", "audio": "ogg", "file": "pdf"}[kind]
		mime := map[string]string{"image": "image/jpeg", "video": "video/mp4", "audio": "audio/ogg", "file": "application/pdf"}[kind]
		a := obj{"type": kind, "url": "https://files.example.com/u/" + g.hex(16) + "." + ext, "mimeType": mime}
		if g.r.IntN(2) == 0 {
			a["fileName"] = g.hex(6) + "." + ext
			a["description"] = g.text(1, 6)
		}
		return obj{"type": "attachment", "attachment": a}
	case p < 83:
		m := obj{"type": "location", "latitude": float64(g.r.IntN(180000000)-90000000) / 1e6, "longitude": float64(g.r.IntN(360000000)-180000000) / 1e6}
		if g.r.IntN(2) == 0 {
			m["address"] = g.text(2, 6)
		}
		return m
	case p < 93:
		replies := make([]string, 2+g.r.IntN(4))
		for i := range replies {
			replies[i] = g.text(1, 3)
		}
		return obj{"type": "quick_reply", "title": g.text(3, 10) + "?", "replies": replies}
	default:
		return obj{"type": "custom_payload", "payload": obj{"template": g.hex(8), "params": []any{g.text(1, 3), g.r.IntN(1000)}}}
	}
}

func (g *gen) event() obj {
	switch p := g.r.IntN(100); {
	case p < 60:
		return obj{"type": "message", "mId": g.uuid(), "timestamp": g.ts(), "message": g.message()}
	case p < 75:
		return obj{"type": "message_echo", "mId": g.uuid(), "timestamp": g.ts(), "message": g.message()}
	default:
		st := obj{"value": g.pick("sent", "delivered", "read", "failed")}
		if st["value"] == "failed" {
			st["message"] = g.pick("Invalid token", "number unreachable", "blocked by user")
		}
		return obj{"type": "message_status", "mId": g.uuid(), "timestamp": g.ts(), "status": st}
	}
}

func (g *gen) valid() obj {
	w := obj{"channelId": "gfd8g7fd89dgfd", "contactId": g.phone(), "events": []any{g.event()}}
	if g.r.IntN(10) < 3 {
		w["contact"] = obj{"firstName": g.pick("John", "Siti", "Ana", "Wei"), "lastName": g.pick("Doe", "Tan", "Silva"),
			"countryCode": g.pick("MY", "SG", "BR", "US"), "email": g.hex(6) + "@example.com", "phone": w["contactId"], "language": g.pick("en", "ms", "pt")}
	}
	return w
}

func ev(w obj) obj  { return w["events"].([]any)[0].(obj) }
func msg(w obj) obj { m, _ := ev(w)["message"].(obj); return m }

// withMessage returns a valid payload whose event carries a message of type t.
func (g *gen) withMessage(t string) obj {
	for {
		w := g.valid()
		if m := msg(w); m != nil && m["type"] == t {
			return w
		}
	}
}

// payload returns one NDJSON line and a label naming its fault ("valid",
// "warn:<rule>" or "invalid:<rule>").
func (g *gen) payload(invalid bool) ([]byte, string) {
	w := g.valid()
	label := "valid"
	if !invalid {
		// A few valid payloads carry warnings, as real traffic would.
		switch p := g.r.IntN(100); {
		case p < 1:
			w = g.withMessage("text")
			msg(w)["text"] = strings.Repeat("long text ", 710)
			label = "warn:text-length"
		case p < 2:
			w = g.withMessage("quick_reply")
			msg(w)["replies"] = strings.Fields("a b c d e f g h i j k l")
			label = "warn:replies-count"
		case p < 3:
			w["debug"] = true
			label = "warn:unknown-field"
		case p < 4:
			w["events"] = append(w["events"].([]any), g.event())
			label = "warn:events-multiple"
		case p < 5:
			w = g.withMessage("location")
			m := msg(w)
			m["latitude"], m["longitude"] = fmt.Sprint(m["latitude"]), fmt.Sprint(m["longitude"])
			label = "warn:coordinate-string"
		case p < 6:
			w["events"] = []any{obj{"type": "message_status", "mId": g.uuid(), "timestamp": g.ts(), "status": obj{"value": "failed"}}}
			label = "warn:status-reason-missing"
		case p < 7:
			w["contact"] = obj{"firstName": "Ana", "countryCode": "br", "timezone": "-3"}
			label = "warn:contact-field"
		}
		return marshal(w), label
	}
	faults := []string{"required", "type", "enum", "events-empty", "contact-id-length", "mid-length",
		"timestamp-seconds", "timestamp-range", "text-empty", "url-invalid", "latitude-range",
		"longitude-range", "replies-empty", "status-enum", "message-type", "json-syntax"}
	fault := faults[g.r.IntN(len(faults))]
	switch fault {
	case "required":
		delete(w, g.pick("channelId", "contactId", "events"))
	case "type":
		ev(w)["timestamp"] = fmt.Sprint(ev(w)["timestamp"])
	case "enum":
		ev(w)["type"] = g.pick("message_read", "Message", "status")
	case "events-empty":
		w["events"] = []any{}
	case "contact-id-length":
		w["contactId"] = "+" + strings.Repeat("6", 51)
	case "mid-length":
		ev(w)["mId"] = g.uuid() + "-" + g.uuid()
	case "timestamp-seconds":
		ev(w)["timestamp"] = ev(w)["timestamp"].(int64) / 1000
	case "timestamp-range":
		ev(w)["timestamp"] = -ev(w)["timestamp"].(int64)
	case "text-empty":
		w = g.withMessage("text")
		msg(w)["text"] = ""
	case "url-invalid":
		w = g.withMessage("attachment")
		msg(w)["attachment"].(obj)["url"] = g.pick("ftp://files.example.com/a.jpg", "files/a.jpg", "www.example.com/a.jpg")
	case "latitude-range":
		w = g.withMessage("location")
		msg(w)["latitude"] = 90.5 + float64(g.r.IntN(100))
	case "longitude-range":
		w = g.withMessage("location")
		msg(w)["longitude"] = -180.5 - float64(g.r.IntN(100))
	case "replies-empty":
		w = g.withMessage("quick_reply")
		msg(w)["replies"] = []string{}
	case "status-enum":
		ev(w)["type"] = "message_status"
		delete(ev(w), "message")
		ev(w)["status"] = obj{"value": g.pick("seen", "DELIVERED", "Read")}
	case "message-type":
		w = g.withMessage("text")
		msg(w)["type"] = g.pick("sticker", "template", "Text")
	case "json-syntax":
		line := marshal(w)
		return line[:len(line)/2], "invalid:" + fault
	}
	return marshal(w), "invalid:" + fault
}

func marshal(v any) []byte {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return data
}
