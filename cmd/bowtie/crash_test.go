package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/bowtie-analytics/bowtie/duckdb"
)

// serveProcess is a `bowtie serve` child process.
type serveProcess struct {
	cmd  *exec.Cmd
	base string
	out  *lockedBuffer
	done chan struct{}
}

var listenLine = regexp.MustCompile(`dashboard at (http://[^/\s]+)/`)

// startServeProcess runs bin serve args... and waits until it listens.
func startServeProcess(t *testing.T, bin string, args ...string) *serveProcess {
	t.Helper()
	p := &serveProcess{cmd: exec.Command(bin, append([]string{"serve"}, args...)...), out: &lockedBuffer{}, done: make(chan struct{})}
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.out.Write([]byte(sc.Text() + "\n"))
			if m := listenLine.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
		io.Copy(io.Discard, stderr)
		p.cmd.Wait()
		close(p.done)
	}()
	select {
	case p.base = <-found:
		return p
	case <-p.done:
		t.Fatalf("bowtie serve exited:\n%s", p.out)
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		t.Fatalf("bowtie serve did not listen within 30 s:\n%s", p.out)
	}
	return nil
}

// buildBowtie builds the binary into a temporary directory.
func buildBowtie(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "bowtie")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("go build: %v", err)
	}
	return bin
}

// TestServe_KillNine is the durability test of the collection API: load
// generators send batches (retrying each until it is acknowledged, with the
// same messageIds) while the server is killed with SIGKILL and restarted
// four times; then the first acknowledged batches are sent again (their
// acknowledgements "lost") and the server is stopped with SIGTERM. Every
// acknowledged messageId must be stored exactly once, and no id twice.
func TestServe_KillNine(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and kills it: skipped with -short")
	}
	bin := buildBowtie(t)
	path := filepath.Join(t.TempDir(), "crash.duckdb")
	st, err := duckdb.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	const key = "crash-test-write-key"
	args := []string{"--db", path, "--addr", "127.0.0.1:0", "--write-key", "load=" + key}

	var base atomic.Value // the current server's URL
	srv := startServeProcess(t, bin, args...)
	base.Store(srv.base)

	const clients, batchSize = 4, 50
	var (
		mu      sync.Mutex
		acked   []string
		replays [][]byte // bodies of early acknowledged batches, sent again at the end
		sent    atomic.Int64
		retried atomic.Int64 // batches acknowledged only after a retry
		stop    atomic.Bool
		wg      sync.WaitGroup
	)
	client := &http.Client{Timeout: 5 * time.Second}
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			for b := 0; !stop.Load(); b++ {
				ids := make([]string, batchSize)
				var body bytes.Buffer
				body.WriteString(`{"batch":[`)
				for i := range ids {
					ids[i] = fmt.Sprintf("c%d-b%d-m%d", c, b, i)
					if i > 0 {
						body.WriteByte(',')
					}
					fmt.Fprintf(&body, `{"type":"track","messageId":%q,"userId":"user-%d","event":"Load Test","properties":{"batch":%d}}`, ids[i], c, b)
				}
				body.WriteString(`]}`)
				// Retry until acknowledged: a batch committed just before a
				// kill is sent again and must be absorbed.
				for attempt := 0; ; attempt++ {
					req, _ := http.NewRequest("POST", base.Load().(string)+"/v1/batch", bytes.NewReader(body.Bytes()))
					req.SetBasicAuth(key, "")
					sent.Add(1)
					res, err := client.Do(req)
					if err == nil {
						io.Copy(io.Discard, res.Body)
						res.Body.Close()
						if res.StatusCode == 200 {
							if attempt > 0 {
								retried.Add(1)
							}
							mu.Lock()
							acked = append(acked, ids...)
							if b < 3 {
								replays = append(replays, body.Bytes())
							}
							mu.Unlock()
							break
						}
						if res.StatusCode < 500 && res.StatusCode != 429 {
							t.Errorf("batch refused: %s", res.Status)
							return
						}
					}
					if attempt > 2000 {
						t.Errorf("batch c%d-b%d never acknowledged", c, b)
						return
					}
					time.Sleep(10 * time.Millisecond)
				}
			}
		}(c)
	}

	const kills = 4
	for k := 0; k < kills; k++ {
		time.Sleep(time.Duration(1200+300*k) * time.Millisecond)
		if err := srv.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-srv.done
		srv = startServeProcess(t, bin, args...)
		base.Store(srv.base)
	}
	time.Sleep(time.Second)
	stop.Store(true)
	wg.Wait()
	// A client whose acknowledgements were lost sends its first batches
	// again, after four kills: the restarted server must absorb them.
	for _, body := range replays {
		req, _ := http.NewRequest("POST", srv.base+"/v1/batch", bytes.NewReader(body))
		req.SetBasicAuth(key, "")
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Errorf("replayed batch: %s", res.Status)
		}
	}
	// A graceful stop drains and flushes.
	srv.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-srv.done:
	case <-time.After(20 * time.Second):
		srv.cmd.Process.Kill()
		t.Fatal("bowtie serve did not stop within 20 s of SIGTERM")
	}
	if !strings.Contains(srv.out.String(), "server stopped") {
		t.Errorf("no clean stop:\n%s", srv.out)
	}

	st, err = duckdb.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	db := st.DB()
	stored := map[string]int{}
	rows, err := db.Query("SELECT id, count(*) FROM events GROUP BY id")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		var n int
		rows.Scan(&id, &n)
		stored[id] = n
	}
	rows.Close()
	lost, dups := 0, 0
	for _, id := range acked {
		if stored[id] == 0 {
			lost++
			if lost <= 5 {
				t.Errorf("acknowledged %s is not stored", id)
			}
		}
	}
	for id, n := range stored {
		if n > 1 {
			dups++
			if dups <= 5 {
				t.Errorf("%s is stored %d times", id, n)
			}
		}
	}
	t.Logf("%d kills; %d requests sent, %d batches acknowledged after a retry, %d replayed, %d messages acknowledged, %d stored (%d lost, %d duplicated)",
		kills, sent.Load(), retried.Load(), len(replays), len(acked), len(stored), lost, dups)
	if len(replays) == 0 {
		t.Error("no batch to replay")
	}
	if retried.Load() == 0 {
		t.Error("no batch was retried: the kills did not hit the load")
	}
	if len(acked) < 1000 {
		t.Errorf("only %d messages acknowledged: the load generator did not get going", len(acked))
	}
}
