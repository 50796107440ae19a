package emulator

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/tidwall/gjson"
)

// DefaultURL is where `ccx emulate` listens unless told otherwise.
const DefaultURL = "http://127.0.0.1:4747"

// Client talks to a running emulator's /_emulator/ API (`ccx emulate send`,
// `ccx emulate inbox`).
type Client struct {
	BaseURL string
	HTTP    *http.Client
}

// APIError is a non-2xx answer of the emulator API.
type APIError struct {
	Status  int
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("emulator answered HTTP %d: %s", e.Status, e.Message)
}

// UnreachableError is a failure to talk to the emulator at all.
type UnreachableError struct {
	URL string
	Err error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("cannot reach the emulator at %s (is `ccx emulate` running?): %v", e.URL, e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

func (c *Client) do(ctx context.Context, method, path string, body any, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	base := strings.TrimRight(c.BaseURL, "/")
	req, err := http.NewRequestWithContext(ctx, method, base+path, rd)
	if err != nil {
		return fmt.Errorf("bad emulator URL %q: %w", c.BaseURL, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.client().Do(req)
	if err != nil {
		return &UnreachableError{URL: c.BaseURL, Err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return &UnreachableError{URL: c.BaseURL, Err: err}
	}
	if resp.StatusCode/100 != 2 {
		return apiError(resp.StatusCode, data)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s%s did not answer like a ccx emulator: %w", base, path, err)
	}
	return nil
}

// Info returns what the emulator runs.
func (c *Client) Info(ctx context.Context) (Info, error) {
	var i Info
	err := c.do(ctx, http.MethodGet, APIPrefix, nil, &i)
	return i, err
}

// State returns the emulator's whole state.
func (c *Client) State(ctx context.Context) (State, error) {
	return c.Inbox(ctx, "", "")
}

// Inbox returns the part of the state an inbox of channelID and contactID
// ("" for all) shows: those contacts and their messages, and the
// warnings. The server selects them by its indexes; the answer is decoded
// as it streams in.
func (c *Client) Inbox(ctx context.Context, channelID, contactID string) (State, error) {
	q := url.Values{}
	if channelID != "" {
		q.Set("channelId", channelID)
	}
	if contactID != "" {
		q.Set("contactId", contactID)
	}
	path := APIPrefix + "state"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	st := State{Version: StateVersion}
	err := c.get(ctx, path, func(base string, body io.Reader) error {
		err := decodeStateFrom(stateSource{name: "the answer of " + base + path}, bufio.NewReaderSize(body, 256<<10), &st, func(m Message) { st.Messages = append(st.Messages, m) })
		if err != nil {
			return fmt.Errorf("%s%s did not answer like a ccx emulator: %w", base, path, err)
		}
		return nil
	})
	return st, err
}

// get GETs path and hands a 2xx body to read, unbuffered.
func (c *Client) get(ctx context.Context, path string, read func(base string, body io.Reader) error) error {
	base := strings.TrimRight(c.BaseURL, "/")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
	if err != nil {
		return fmt.Errorf("bad emulator URL %q: %w", c.BaseURL, err)
	}
	resp, err := c.client().Do(req)
	if err != nil {
		return &UnreachableError{URL: c.BaseURL, Err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return apiError(resp.StatusCode, data)
	}
	return read(base, resp.Body)
}

func (c *Client) client() *http.Client {
	if c.HTTP == nil {
		return http.DefaultClient
	}
	return c.HTTP
}

func apiError(status int, data []byte) error {
	msg := gjson.GetBytes(data, "error.message").String()
	if msg == "" {
		msg = strings.TrimSpace(string(data))
	}
	return &APIError{Status: status, Message: msg}
}

// Send asks the emulator to send m to contactID ("" = most recent contact)
// on channelID ("" = the emulator's first channel).
func (c *Client) Send(ctx context.Context, channelID, contactID string, m channel.Message) (SendResponse, error) {
	if channelID == "" {
		i, err := c.Info(ctx)
		if err != nil {
			return SendResponse{}, err
		}
		if len(i.Channels) == 0 {
			return SendResponse{}, fmt.Errorf("the emulator at %s has no channels", c.BaseURL)
		}
		channelID = i.Channels[0].ID
	}
	var out SendResponse
	err := c.do(ctx, http.MethodPost, APIPrefix+"channels/"+url.PathEscape(channelID)+"/send", SendRequest{ContactID: contactID, Message: m}, &out)
	return out, err
}

// Customer asks the emulator to play the customer contactID writing m
// through provider name (see Emulator.SendAsCustomer).
func (c *Client) Customer(ctx context.Context, name, contactID string, m channel.Message) (PhoneResponse, error) {
	var out PhoneResponse
	err := c.do(ctx, http.MethodPost, APIPrefix+"providers/"+url.PathEscape(name)+"/inbound", CustomerRequest{ContactID: contactID, Message: m}, &out)
	return out, err
}
