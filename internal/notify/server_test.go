package notify_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// received is what the test SMTP server got for one message.
type received struct {
	From string
	To   []string
	Data []byte
	TLS  bool // the session was encrypted when DATA arrived
}

// serverOptions shape a test SMTP server.
type serverOptions struct {
	StartTLS bool   // offer STARTTLS on a plain listener
	Implicit bool   // TLS from the first byte
	User     string // require AUTH PLAIN with User and Pass
	Pass     string
}

// smtpServer is a real SMTP server on 127.0.0.1:0 that records every
// message it accepts.
type smtpServer struct {
	Host  string
	Port  int
	Roots *x509.CertPool // trusts the server's self-signed certificate

	opt  serverOptions
	mu   sync.Mutex
	msgs []received
}

func startSMTP(t *testing.T, opt serverOptions) *smtpServer {
	t.Helper()
	cert, roots := selfSigned(t)
	tc := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	addr := l.Addr().(*net.TCPAddr)
	s := &smtpServer{Host: "127.0.0.1", Port: addr.Port, Roots: roots, opt: opt}
	srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
	srv.Domain = "mx.test"
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.ErrorLog = log.New(io.Discard, "", 0)
	switch {
	case opt.Implicit:
		l = tls.NewListener(l, tc)
	case opt.StartTLS:
		srv.TLSConfig = tc
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(l)
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
	return s
}

// selfSigned returns a certificate for 127.0.0.1 that signs itself, and a
// pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("generate key: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "Belfry test SMTP server"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("create certificate: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("parse certificate: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}, pool
}

// Addr is host:port, for messages.
func (s *smtpServer) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// Received returns a copy of the messages accepted so far.
func (s *smtpServer) Received() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.msgs...)
}

// Wait polls until n messages have arrived, failing the test after timeout.
func (s *smtpServer) Wait(t *testing.T, n int, timeout time.Duration) []received {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		got := s.Received()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("SMTP server %s received %d messages within %v, want %d", s.Addr(), len(got), timeout, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *smtpServer) newSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{srv: s, conn: c}, nil
}

// session is one SMTP conversation.
type session struct {
	srv    *smtpServer
	conn   *smtp.Conn
	authed bool
	from   string
	to     []string
}

func (ss *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (ss *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if ss.srv.opt.User == "" || user != ss.srv.opt.User || pass != ss.srv.opt.Pass {
			return smtp.ErrAuthFailed
		}
		ss.authed = true
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.srv.opt.User != "" && !ss.authed {
		return smtp.ErrAuthRequired
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	var b bytes.Buffer
	if _, err := io.Copy(&b, r); err != nil {
		return fmt.Errorf("read data: %w", err)
	}
	_, isTLS := ss.conn.TLSConnectionState()
	ss.srv.mu.Lock()
	defer ss.srv.mu.Unlock()
	ss.srv.msgs = append(ss.srv.msgs, received{From: ss.from, To: ss.to, Data: b.Bytes(), TLS: isTLS})
	return nil
}

func (ss *session) Reset() {
	ss.from, ss.to = "", nil
}

func (ss *session) Logout() error { return nil }
