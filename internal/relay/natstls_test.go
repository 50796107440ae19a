package relay

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ccx-cli/ccx/internal/natstest"
)

// testCA issues certificates for a TLS test, written as PEM files in dir.
type testCA struct {
	t    *testing.T
	dir  string
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newTestCA(t *testing.T, dir string) *testCA {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ccx test CA"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	ca := &testCA{t: t, dir: dir, cert: cert, key: key, pool: x509.NewCertPool()}
	ca.pool.AddCert(cert)
	ca.write("ca.pem", "CERTIFICATE", der)
	return ca
}

func (ca *testCA) write(name, typ string, der []byte) string {
	p := filepath.Join(ca.dir, name)
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		ca.t.Fatal(err)
	}
	return p
}

// issue makes a leaf certificate for 127.0.0.1 and returns it with the
// paths of its PEM files.
func (ca *testCA) issue(name string, serial int64, usage x509.ExtKeyUsage) (tls.Certificate, string, string) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{usage},
		KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		ca.t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key},
		ca.write(name+".pem", "CERTIFICATE", der), ca.write(name+"-key.pem", "EC PRIVATE KEY", kder)
}

// --queue-tls-ca, --queue-tls-cert and --queue-tls-key reach a server that
// speaks only TLS and requires a client certificate.
func TestNATSMutualTLS(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t, dir)
	srvCert, _, _ := ca.issue("server", 2, x509.ExtKeyUsageServerAuth)
	_, cert, key := ca.issue("relay", 3, x509.ExtKeyUsageClientAuth)
	js, err := natstest.OpenTLS(filepath.Join(dir, "js"), &tls.Config{Certificates: []tls.Certificate{srvCert},
		ClientCAs: ca.pool, ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(js.Stop)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	url := "tls://" + js.HostPort()
	q, err := openNATS(NATSOptions{URLs: []string{url}, TLSCA: filepath.Join(dir, "ca.pem"), TLSCert: cert, TLSKey: key}, "chan1", Limits{}, log)
	if err != nil {
		t.Fatalf("with the CA and a client certificate: %v", err)
	}
	if len(q.MediaKey()) != 32 {
		t.Error("no media key from the queue")
	}
	q.Close()
	if _, err := openNATS(NATSOptions{URLs: []string{url}, TLSCA: filepath.Join(dir, "ca.pem")}, "chan1", Limits{}, log); err == nil {
		t.Error("connected without the client certificate the server requires")
	}
	if _, err := openNATS(NATSOptions{URLs: []string{url}, TLSCert: cert, TLSKey: key}, "chan1", Limits{}, log); err == nil || errors.Is(err, ErrQueueAuth) {
		t.Errorf("without the CA the server's certificate should not verify: %v", err)
	}
}
