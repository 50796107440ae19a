package cli

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/spf13/cobra"
)

func runMessageCmd(t *testing.T, args ...string) (channel.Message, error) {
	t.Helper()
	var got channel.Message
	parent := &cobra.Command{Use: "x", SilenceErrors: true, SilenceUsage: true}
	parent.AddCommand(MessageCommands("Send", "x", func(_ *cobra.Command, m channel.Message) error {
		got = m
		return nil
	})...)
	parent.SetArgs(protectNegativeNumbers(parent, args))
	err := parent.Execute()
	return got, err
}

func TestMessageCommands(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"text", "Hello"}, `{"type":"text","text":"Hello"}`},
		{[]string{"attachment", "https://x.test/a.jpg", "--mime", "image/jpeg"}, `{"type":"attachment","attachment":{"type":"image","url":"https://x.test/a.jpg","mimeType":"image/jpeg"}}`},
		{[]string{"attachment", "https://x.test/a.pdf", "--kind", "file", "--file-name", "a.pdf", "--description", "d"}, `{"type":"attachment","attachment":{"type":"file","url":"https://x.test/a.pdf","fileName":"a.pdf","description":"d"}}`},
		{[]string{"location", "0", "-0.5", "--address", "Null Island"}, `{"type":"location","latitude":0,"longitude":-0.5,"address":"Null Island"}`},
		{[]string{"location", "-33.86", "151.21"}, `{"type":"location","latitude":-33.86,"longitude":151.21}`},
		{[]string{"location", "--address", "Rio", "-22.9", "-43.2"}, `{"type":"location","latitude":-22.9,"longitude":-43.2,"address":"Rio"}`},
		{[]string{"location", "-22.9", "--address", "-5", "-43.2"}, `{"type":"location","latitude":-22.9,"longitude":-43.2,"address":"-5"}`},
		{[]string{"quick-reply", "Rate us", "--reply", "Good", "--reply", "Bad, really"}, `{"type":"quick_reply","title":"Rate us","replies":["Good","Bad, really"]}`},
		{[]string{"custom-payload", `{"a":1}`}, `{"type":"custom_payload","payload":{"a":1}}`},
	}
	for _, tt := range tests {
		m, err := runMessageCmd(t, tt.args...)
		if err != nil {
			t.Fatalf("%v: %v", tt.args, err)
		}
		b, _ := json.Marshal(m)
		if string(b) != tt.want {
			t.Errorf("%v:\n got %s\nwant %s", tt.args, b, tt.want)
		}
	}
}

func TestMessageCommandsUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"text"},
		{"text", "a", "b"},
		{"attachment", "https://x.test/a", "--kind", "gif"},
		{"location", "abc", "1"},
		{"location", "91", "1"},
		{"location", "1", "-180.5"},
		{"quick-reply", "Title"},
		{"custom-payload", "[1]"},
		{"custom-payload", "{nope"},
	} {
		_, err := runMessageCmd(t, args...)
		var fe *FlagError
		if !errors.As(err, &fe) {
			t.Errorf("%v: want a usage error, got %v", args, err)
		}
	}
}
