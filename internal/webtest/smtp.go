package webtest

import (
	"bytes"
	"io"
	"log"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/belfry-cert/belfry/internal/notify"
	"github.com/emersion/go-smtp"
)

// MailServer is a real SMTP server on the loopback interface that keeps
// every message it receives, for tests of what Belfry sends.
type MailServer struct {
	Addr string
	mu   sync.Mutex
	msgs []Mail
}

// Mail is one message received: the envelope and the raw message.
type Mail struct {
	From string
	To   []string
	Data []byte
}

// StartMailServer starts a MailServer, stopped when the test ends.
func StartMailServer(t testing.TB) *MailServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := &MailServer{Addr: l.Addr().String()}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &mailSession{m: m}, nil }))
	srv.Domain = "mx.test"
	srv.ErrorLog = log.New(io.Discard, "", 0)
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(l)
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
	return m
}

// Config is the notify configuration that sends to this server.
func (m *MailServer) Config() notify.SMTPConfig {
	host, port, _ := net.SplitHostPort(m.Addr)
	p, _ := strconv.Atoi(port)
	return notify.SMTPConfig{Host: host, Port: p, TLS: notify.TLSNone, From: "Belfry <noreply@belfry.example>"}
}

// Messages returns the messages received so far.
func (m *MailServer) Messages() []Mail {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Mail(nil), m.msgs...)
}

// Wait waits up to 30 seconds until n messages have arrived and returns
// them; fewer fail the test.
func (m *MailServer) Wait(t testing.TB, n int) []Mail {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := m.Messages()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("the SMTP server received %d messages, want %d", len(got), n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type mailSession struct {
	m    *MailServer
	from string
	to   []string
}

func (s *mailSession) Mail(from string, _ *smtp.MailOptions) error { s.from = from; return nil }
func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}
func (s *mailSession) Data(r io.Reader) error {
	var b bytes.Buffer
	if _, err := io.Copy(&b, r); err != nil {
		return err
	}
	s.m.mu.Lock()
	s.m.msgs = append(s.m.msgs, Mail{From: s.from, To: s.to, Data: b.Bytes()})
	s.m.mu.Unlock()
	return nil
}
func (s *mailSession) Reset()        { s.from, s.to = "", nil }
func (s *mailSession) Logout() error { return nil }
