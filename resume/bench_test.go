package resume_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/coder/websocket"
	"github.com/sealkit/sealkit/resume"
	"github.com/stretchr/testify/require"
)

// BenchmarkResume measures one full resume over WebSocket: dial, welcome,
// restore, restored with a sealed blob, result, snapshot.
func BenchmarkResume(b *testing.B) {
	srv := startServer(b, newSealer(b), resume.Options{})
	tok := storeTokenB(b, srv)
	url := "ws" + strings.TrimPrefix(srv.url, "http")
	ctx := context.Background()
	restored := []byte(`{"t":"restored","v":1,"key":"launch","data":` + quote(tok) + `}`)
	b.ReportAllocs()
	for b.Loop() {
		ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{resume.Subprotocol}})
		require.NoError(b, err)
		readType(b, ws, "welcome")
		readType(b, ws, "restore")
		require.NoError(b, ws.Write(ctx, websocket.MessageText, restored))
		readType(b, ws, "result")
		readType(b, ws, "snapshot")
		_ = ws.CloseNow()
		<-srv.app.conns
		<-srv.app.opened
	}
}

// BenchmarkIdleConn reports the server's memory (heap and stack in use,
// after GC) per idle WebSocket connection that has resumed, in
// B/idle-conn. The clients are raw sockets holding no buffers, so the
// figure is the server's side (target: ≤ 32 KiB).
func BenchmarkIdleConn(b *testing.B) {
	const conns = 256
	var total float64
	for b.Loop() {
		// A fresh server per round, shut down at its end, so that no
		// connection of an earlier round is still being torn down.
		srv := startServer(b, newSealer(b), resume.Options{})
		tok := storeTokenB(b, srv)
		addr := strings.TrimPrefix(srv.url, "http://")
		addr = addr[:strings.Index(addr, "/")]
		restored := []byte(`{"t":"restored","v":1,"key":"launch","data":` + quote(tok) + `}`)
		before := inUse()
		open := make([]net.Conn, 0, conns)
		for range conns {
			c, err := rawResume(addr, restored)
			require.NoError(b, err)
			open = append(open, c)
			<-srv.app.conns
			<-srv.app.opened
		}
		total += float64(inUse()-before) / conns
		for _, c := range open {
			_ = c.Close()
		}
		require.NoError(b, srv.h.Shutdown(context.Background()))
	}
	b.ReportMetric(total/float64(b.N), "B/idle-conn")
}

func inUse() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapInuse + ms.StackInuse)
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func readType(b *testing.B, ws *websocket.Conn, typ string) {
	b.Helper()
	_, msg, err := ws.Read(context.Background())
	require.NoError(b, err)
	var f frame
	require.NoError(b, json.Unmarshal(msg, &f))
	require.Equal(b, typ, f.T, "%s", msg)
}

// storeTokenB stores wantState through one WebSocket connection and
// returns the blob.
func storeTokenB(b *testing.B, srv *server) string {
	b.Helper()
	ctx := context.Background()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.url, "http"), &websocket.DialOptions{Subprotocols: []string{resume.Subprotocol}})
	require.NoError(b, err)
	defer func() { _ = ws.CloseNow() }()
	readType(b, ws, "welcome")
	readType(b, ws, "restore")
	require.NoError(b, ws.Write(ctx, websocket.MessageText, []byte(`{"t":"restored","v":1,"key":"launch","data":null}`)))
	readType(b, ws, "result")
	<-srv.app.conns
	<-srv.app.opened
	require.NoError(b, ws.Write(ctx, websocket.MessageText, []byte(`{"t":"action","id":"1","name":"store","data":`+mustJSON(b, wantState)+`}`)))
	_, msg, err := ws.Read(ctx)
	require.NoError(b, err)
	var f frame
	require.NoError(b, json.Unmarshal(msg, &f))
	require.Equal(b, "store", f.T)
	readType(b, ws, "reply")
	return f.token(b)
}

// rawResume opens a WebSocket with a bare TCP socket, resumes with the
// restored frame, and returns the socket once the snapshot has arrived.
func rawResume(addr string, restored []byte) (net.Conn, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	var key [16]byte
	_, _ = rand.Read(key[:])
	_, err = fmt.Fprintf(c, "GET /resume HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: %s\r\n\r\n",
		addr, base64.StdEncoding.EncodeToString(key[:]), resume.Subprotocol)
	if err != nil {
		_ = c.Close()
		return nil, err
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		_ = c.Close()
		return nil, fmt.Errorf("upgrade: %v %v", resp, err)
	}
	for _, want := range []string{"welcome", "restore", "", "result", "snapshot"} {
		if want == "" {
			if err := writeMasked(c, restored); err != nil {
				_ = c.Close()
				return nil, err
			}
			continue
		}
		msg, err := readUnmasked(br)
		if err != nil || !strings.Contains(string(msg), `"t":"`+want+`"`) {
			_ = c.Close()
			return nil, fmt.Errorf("want %s, got %s (%v)", want, msg, err)
		}
	}
	return c, nil
}

// writeMasked writes one client text frame with a zero mask.
func writeMasked(w io.Writer, p []byte) error {
	hdr := []byte{0x81, 0x80 | 126, 0, 0, 0, 0, 0, 0}
	binary.BigEndian.PutUint16(hdr[2:], uint16(len(p)))
	_, err := w.Write(append(hdr, p...))
	return err
}

// readUnmasked reads one unfragmented server frame.
func readUnmasked(r *bufio.Reader) ([]byte, error) {
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, err
	}
	n := int(h[1] & 0x7f)
	switch n {
	case 126:
		var l [2]byte
		if _, err := io.ReadFull(r, l[:]); err != nil {
			return nil, err
		}
		n = int(binary.BigEndian.Uint16(l[:]))
	case 127:
		return nil, fmt.Errorf("frame too large for this client")
	}
	p := make([]byte, n)
	_, err := io.ReadFull(r, p)
	return p, err
}
