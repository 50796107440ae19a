package vonage

import (
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"strings"
	"sync"
)

// JWTs both ways, with the standard library: RS256 signed with the
// application's private key for calls to the API, HS256 with the account's
// signature secret on the webhooks Vonage sends (docs/provider.md).

var b64 = base64.RawURLEncoding

func encodeJWT(alg string, claims map[string]any, sign func([]byte) ([]byte, error)) (string, error) {
	h, _ := json.Marshal(map[string]string{"alg": alg, "typ": "JWT"})
	c, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	input := b64.EncodeToString(h) + "." + b64.EncodeToString(c)
	sig, err := sign([]byte(input))
	if err != nil {
		return "", err
	}
	return input + "." + b64.EncodeToString(sig), nil
}

// SignRS256 signs claims with an RSA private key.
func SignRS256(claims map[string]any, key *rsa.PrivateKey) (string, error) {
	return encodeJWT("RS256", claims, func(in []byte) ([]byte, error) {
		d := sha256.Sum256(in)
		return rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, d[:])
	})
}

// SignHS256 signs claims with a shared secret.
func SignHS256(claims map[string]any, secret string) string {
	t, _ := encodeJWT("HS256", claims, func(in []byte) ([]byte, error) {
		m := hmac.New(sha256.New, []byte(secret))
		m.Write(in)
		return m.Sum(nil), nil
	})
	return t
}

var errJWT = errors.New("malformed or badly signed JWT")

// splitJWT checks the header's algorithm and returns the signed input, the
// decoded claims and the signature.
func splitJWT(tok, alg string) (string, map[string]any, []byte, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 || len(tok) > 8<<10 {
		return "", nil, nil, errJWT
	}
	hb, err1 := b64.DecodeString(parts[0])
	cb, err2 := b64.DecodeString(parts[1])
	sig, err3 := b64.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil {
		return "", nil, nil, errJWT
	}
	var h struct {
		Alg string `json:"alg"`
	}
	var claims map[string]any
	if json.Unmarshal(hb, &h) != nil || h.Alg != alg || json.Unmarshal(cb, &claims) != nil || claims == nil {
		return "", nil, nil, errJWT // never "none", never another algorithm
	}
	return parts[0] + "." + parts[1], claims, sig, nil
}

// VerifyHS256 checks a token's HS256 signature and returns its claims.
func VerifyHS256(tok, secret string) (map[string]any, error) {
	input, claims, sig, err := splitJWT(tok, "HS256")
	if err != nil || secret == "" {
		return nil, errJWT
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(input))
	if !hmac.Equal(sig, m.Sum(nil)) {
		return nil, errJWT
	}
	return claims, nil
}

// VerifyRS256 checks a token's RS256 signature and returns its claims.
func VerifyRS256(tok string, pub *rsa.PublicKey) (map[string]any, error) {
	input, claims, sig, err := splitJWT(tok, "RS256")
	if err != nil || pub == nil {
		return nil, errJWT
	}
	d := sha256.Sum256([]byte(input))
	if rsa.VerifyPKCS1v15(pub, crypto.SHA256, d[:], sig) != nil {
		return nil, errJWT
	}
	return claims, nil
}

// ParsePrivateKey reads a PEM RSA key, PKCS#8 (what the Vonage dashboard
// downloads) or PKCS#1. Literal "\n" sequences count as newlines, so the key
// fits on one KEY=VALUE line.
func ParsePrivateKey(s string) (*rsa.PrivateKey, error) {
	s = strings.ReplaceAll(strings.TrimSpace(s), `\n`, "\n")
	blk, _ := pem.Decode([]byte(s))
	if blk == nil {
		return nil, errors.New("not a PEM private key")
	}
	if k, err := x509.ParsePKCS1PrivateKey(blk.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, errors.New("not an RSA private key (PKCS#8 or PKCS#1)")
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("not an RSA private key")
	}
	return rk, nil
}

// EncodePrivateKey is the key as one-line PEM (PKCS#8, "\n" escaped), the
// form credentials files hold.
func EncodePrivateKey(k *rsa.PrivateKey) string {
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	p := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	return strings.ReplaceAll(strings.TrimSpace(string(p)), "\n", `\n`)
}

var (
	testKeyOnce sync.Once
	testKey     *rsa.PrivateKey
)

// generatedKey is one RSA key per process for emulators given none (making
// a 2048-bit key takes a noticeable moment).
func generatedKey() *rsa.PrivateKey {
	testKeyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic("vonage: cannot generate an RSA key: " + err.Error())
		}
		testKey = k
	})
	return testKey
}

func claimInt(c map[string]any, k string) (int64, bool) {
	f, ok := c[k].(float64)
	return int64(f), ok
}

func claimStr(c map[string]any, k string) string {
	s, _ := c[k].(string)
	return s
}
