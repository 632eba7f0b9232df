package main

import (
	"bufio"
	"context"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rootaudit/rootaudit/report"
)

// chromiumFlags are the flags of every headless run: no sandbox (root in
// CI), no GPU, no background services, no first-run UI, no QUIC. A fresh
// --user-data-dir is added per run.
var chromiumFlags = []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
	"--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic", "--disable-extensions",
	"--disable-default-apps", "--no-default-browser-check", "--disable-features=NetworkTimeServiceQuerying",
	"--virtual-time-budget=5000"}

// chromiumServiceHosts are hosts Chromium itself contacts even with every
// background flag set (component updater, account consistency, network
// time); a request to them is the browser's, never the page's. The pages
// under test reference no host at all, and the planted payloads use
// pwned.test, so neither can hide behind this list.
var chromiumServiceHosts = regexp.MustCompile(`(^|\.)(google\.com|googleapis\.com|gstatic\.com|gvt1\.com|googleusercontent\.com)$`)

// findChromium returns the Chromium binary, or skips the test (fails it
// when CI=true: .ci/run installs the Debian package chromium).
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed (CI=true): .ci/run must install the Debian package chromium")
	}
	t.Skip("chromium is not installed; skipping the browser test (apt-get install chromium)")
	return ""
}

// recordingProxy is an HTTP proxy on 127.0.0.1 that answers every request
// with 403 and records its target host.
type recordingProxy struct {
	ln   net.Listener
	mu   sync.Mutex
	reqs []string // request lines
}

func newRecordingProxy(t *testing.T) *recordingProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &recordingProxy{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(5 * time.Second))
				line, _ := bufio.NewReader(c).ReadString('\n')
				p.mu.Lock()
				p.reqs = append(p.reqs, strings.TrimSpace(line))
				p.mu.Unlock()
				c.Write([]byte("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
			}()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return p
}

// requests returns the recorded request lines, split into the browser's own
// and the others (the page's).
func (p *recordingProxy) requests() (browser, page []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range p.reqs {
		if chromiumServiceHosts.MatchString(requestHost(r)) {
			browser = append(browser, r)
		} else {
			page = append(page, r)
		}
	}
	return browser, page
}

func (p *recordingProxy) reset() {
	p.mu.Lock()
	p.reqs = nil
	p.mu.Unlock()
}

// requestHost extracts the host of a proxy request line ("CONNECT h:443
// HTTP/1.1" or "GET http://h/p HTTP/1.1").
func requestHost(line string) string {
	f := strings.Fields(line)
	if len(f) < 2 {
		return line
	}
	if f[0] == "CONNECT" {
		h, _, _ := net.SplitHostPort(f[1])
		return h
	}
	if u, err := url.Parse(f[1]); err == nil {
		return u.Hostname()
	}
	return f[1]
}

// chromium runs headless Chromium through the proxy (loopback included)
// with a fresh profile and returns its stdout.
func chromium(t *testing.T, bin string, proxy *recordingProxy, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	profile, err := os.MkdirTemp("", "rootaudit-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(profile)
	all := append(append([]string(nil), chromiumFlags...), "--user-data-dir="+profile,
		"--proxy-server=http://"+proxy.ln.Addr().String(), "--proxy-bypass-list=<-loopback>")
	cmd := exec.CommandContext(ctx, bin, append(all, args...)...)
	cmd.WaitDelay = 5 * time.Second
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, stderr.String())
	}
	return string(out)
}

var titleRE = regexp.MustCompile(`(?s)<title>(.*?)</title>`)

func domTitle(dom string) string {
	m := titleRE.FindStringSubmatch(dom)
	if m == nil {
		return ""
	}
	return m[1]
}

// TestEvidenceInBrowser opens index.html of a pack whose log values carry
// script payloads in headless Chromium: the headline, tables and charts
// render; no payload runs; the page makes no network request. A control
// page with the same payloads unescaped proves the harness would notice.
func TestEvidenceInBrowser(t *testing.T) {
	bin := findChromium(t)
	out, _ := hostilePack(t)
	proxy := newRecordingProxy(t)
	index := filepath.Join(out, report.PackIndex)

	// Control: raw payloads and an external image run and fetch here.
	control := filepath.Join(t.TempDir(), "control.html")
	os.WriteFile(control, []byte(`<!DOCTYPE html><html><head><title>control</title></head><body>`+xssImg+
		`<img src="http://pwned.test/x.png"></body></html>`), 0o644)
	dom := chromium(t, bin, proxy, "--dump-dom", "file://"+control)
	if domTitle(dom) != "PWNED" {
		t.Fatalf("control page: the payload did not run (title %q): the harness cannot detect script execution", domTitle(dom))
	}
	if _, page := proxy.requests(); len(page) == 0 || !strings.Contains(strings.Join(page, "\n"), "pwned.test") {
		t.Fatalf("control page: the proxy saw no request for pwned.test (%v): the harness cannot detect network requests", page)
	}

	// The pack, as written (with its Content-Security-Policy).
	proxy.reset()
	dom = chromium(t, bin, proxy, "--dump-dom", "file://"+index)
	checkRenderedPack(t, "index.html", dom)
	browser, page := proxy.requests()
	if len(page) > 0 {
		t.Errorf("index.html made network requests: %v", page)
	}
	if len(browser) > 0 {
		t.Logf("requests by Chromium's own services, not the page (ignored): %v", browser)
	}

	// The pack without its CSP: escaping alone must keep the payloads inert.
	b, err := os.ReadFile(index)
	if err != nil {
		t.Fatal(err)
	}
	meta := `<meta http-equiv="Content-Security-Policy" content="` + report.PackCSP + `">`
	if !strings.Contains(string(b), meta) {
		t.Fatal("index.html has no CSP meta to strip")
	}
	nocsp := filepath.Join(t.TempDir(), "index-nocsp.html")
	os.WriteFile(nocsp, []byte(strings.Replace(string(b), meta, "", 1)), 0o644)
	proxy.reset()
	dom = chromium(t, bin, proxy, "--dump-dom", "file://"+nocsp)
	checkRenderedPack(t, "index.html without CSP", dom)
	if _, page := proxy.requests(); len(page) > 0 {
		t.Errorf("index.html without CSP made network requests: %v", page)
	}

	// A screenshot renders (the page paints without errors at A4-ish width).
	shot := filepath.Join(t.TempDir(), "shot.png")
	chromium(t, bin, proxy, "--screenshot="+shot, "--window-size=1280,2000", "file://"+index)
	if st, err := os.Stat(shot); err != nil || st.Size() < 10000 {
		t.Errorf("screenshot: %v (%d bytes)", err, sizeOf(st))
	}
}

func sizeOf(st os.FileInfo) int64 {
	if st == nil {
		return 0
	}
	return st.Size()
}

// checkRenderedPack asserts on the DOM Chromium built from a pack page.
func checkRenderedPack(t *testing.T, what, dom string) {
	t.Helper()
	if title := domTitle(dom); title == "" || strings.TrimSpace(title) == "PWNED" || !strings.HasPrefix(title, "&lt;script&gt;") {
		t.Errorf("%s: document title %q: a payload ran or the title is not the escaped --title", what, title)
	}
	low := strings.ToLower(dom)
	for _, el := range []string{"<script", "<img", "<iframe", "<object", "<embed", "<link"} {
		if strings.Contains(low, el) {
			t.Errorf("%s: the DOM has a %s> element", what, el)
		}
	}
	for _, ref := range []string{`src="http`, `href="http`, `url(http`} {
		if strings.Contains(low, ref) {
			t.Errorf("%s: the DOM references a network URL (%s)", what, ref)
		}
	}
	for _, want := range []string{
		`id="statement">`, "member accounts with human root use in the period", `id="coverage-gaps"`,
		"account-region-days", `id="accounts-table"`, `id="human-events-table"`, `id="coverage-table"`,
		`<svg id="chart-activity"`, `<svg id="chart-sessions"`, `<svg id="chart-coverage"`, `id="sql-inventory"`,
		"&lt;script&gt;document.title='PWNED'&lt;/script&gt;", // the payload, as text
	} {
		if !strings.Contains(dom, want) {
			t.Errorf("%s: the rendered DOM lacks %q", what, want)
		}
	}
	if n := strings.Count(dom, "<tr data-account="); n < 9 {
		t.Errorf("%s: accounts table has %d rows, want at least 9", what, n)
	}
	for _, id := range []string{"chart-activity", "chart-sessions", "chart-coverage"} {
		i := strings.Index(dom, `<svg id="`+id+`"`)
		if i < 0 {
			continue
		}
		j := strings.Index(dom[i:], "</svg>")
		if j < 0 || strings.Count(dom[i:i+j], "<rect") == 0 {
			t.Errorf("%s: chart %s has no bars", what, id)
		}
	}
}
