package channel

import "testing"

func TestParseLocationAndCustomPayload(t *testing.T) {
	m, err := ParseLocation("-33.8568", "151.2153", "Sydney")
	if err != nil || *m.Latitude != -33.8568 || *m.Longitude != 151.2153 || m.Address != "Sydney" {
		t.Fatalf("%+v %v", m, err)
	}
	for _, c := range [][2]string{{"abc", "1"}, {"91", "1"}, {"1", "-180.5"}} {
		if _, err := ParseLocation(c[0], c[1], ""); err == nil {
			t.Errorf("%v accepted", c)
		}
	}
	if m, err := ParseCustomPayload(` {"a":1} `); err != nil || string(m.Payload) != `{"a":1}` {
		t.Errorf("%+v %v", m, err)
	}
	for _, s := range []string{"[1]", "{nope", ""} {
		if _, err := ParseCustomPayload(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}
