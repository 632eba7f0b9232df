package s3test

import (
	"context"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Fault is what the proxy does to a matching request.
type Fault string

// The faults.
const (
	Fault503         Fault = "503"          // 503 SlowDown error XML
	Fault500         Fault = "500"          // 500 InternalError error XML
	FaultDenied      Fault = "denied"       // 403 AccessDenied (Message: Rule.Message)
	FaultReset       Fault = "reset"        // real headers, AfterBytes of the body, then a TCP reset
	FaultTruncate    Fault = "truncate"     // real headers (true Content-Length), AfterBytes of the body, then a clean close
	FaultShortLength Fault = "short-length" // Content-Length: AfterBytes and only that much body, connection kept
	FaultStall       Fault = "stall"        // AfterBytes < 0: nothing for Stall; else AfterBytes of the body, then nothing for Stall
)

// Rule faults the requests it matches.
type Rule struct {
	Op    string // "get", "list", "head", "put", …; "" matches any
	Match string // substring of the key (get, head) or of the prefix (list); "" matches any
	Fault Fault
	// Times is how many matching requests are faulted (for each key when
	// PerKey); 0 means every one.
	Times      int
	PerKey     bool
	AfterBytes int
	Stall      time.Duration
	Message    string // FaultDenied
	Code       string // FaultDenied; AccessDenied when ""

	hits map[string]int
}

// Request is one request the proxy saw.
type Request struct {
	Method string
	Op     string // list, get, head, put, sts (ServeSTS), other
	Bucket string
	Key    string // get/head/put
	Prefix string // list
	Token  bool   // list with a continuation token
	Query  string
	Fault  Fault // "" when forwarded untouched
	// sts: the form's Action, RoleArn and RoleSessionName.
	Action, RoleARN, Session string
}

// Proxy is a reverse proxy on loopback in front of an S3 server that
// injects faults and records every request.
type Proxy struct {
	URL string
	// BucketRegion, when set, makes the proxy answer like S3 for a bucket
	// in that region: a request signed for another region gets 301
	// PermanentRedirect with the x-amz-bucket-region header.
	BucketRegion string

	target *url.URL
	tr     *http.Transport
	srv    *http.Server
	mu     sync.Mutex
	rules  []*Rule
	log    []Request
	sts    bool // ServeSTS called
	deny   bool // refuse AssumeRole
}

// NewProxy starts a proxy to upstream (http://host:port) and stops it at
// cleanup.
func NewProxy(t testing.TB, upstream string) *Proxy {
	t.Helper()
	u, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{
		URL:    "http://" + l.Addr().String(),
		target: u,
		tr:     &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 128, ResponseHeaderTimeout: 30 * time.Second},
	}
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	go p.srv.Serve(l)
	t.Cleanup(func() {
		p.srv.Close()
		p.tr.CloseIdleConnections()
	})
	return p
}

// ServeSTS makes the proxy play STS as well, for clients whose STS
// endpoint (AWS_ENDPOINT_URL_STS) is URL: a POST to / is recorded as a
// Request with Op "sts" and answered with AccessKey and SecretKey as the
// role's credentials or, when deny, with 403 AccessDenied. It stays on
// across Reset.
func (p *Proxy) ServeSTS(deny bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sts, p.deny = true, deny
}

// Add installs a rule; rules are tried in the order added.
func (p *Proxy) Add(r Rule) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r.hits = map[string]int{}
	p.rules = append(p.rules, &r)
}

// Reset drops every rule and the request log.
func (p *Proxy) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules, p.log = nil, nil
}

// CloseIdle drops the proxy's idle upstream connections (before counting
// goroutines).
func (p *Proxy) CloseIdle() { p.tr.CloseIdleConnections() }

// Requests returns the requests seen so far.
func (p *Proxy) Requests() []Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Request(nil), p.log...)
}

func parseRequest(r *http.Request) Request {
	q := r.URL.Query()
	path := strings.TrimPrefix(r.URL.Path, "/")
	bucket, key, _ := strings.Cut(path, "/")
	req := Request{Method: r.Method, Bucket: bucket, Key: key, Query: r.URL.RawQuery}
	switch {
	case r.Method == http.MethodGet && key == "" && q.Get("list-type") == "2":
		req.Op, req.Prefix, req.Token = "list", q.Get("prefix"), q.Get("continuation-token") != ""
	case r.Method == http.MethodGet && key != "":
		req.Op = "get"
	case r.Method == http.MethodHead:
		req.Op = "head"
	case r.Method == http.MethodPut && key != "":
		req.Op = "put"
	default:
		req.Op = "other"
	}
	return req
}

func (p *Proxy) match(req Request) *Rule {
	for _, r := range p.rules {
		if r.Op != "" && r.Op != req.Op {
			continue
		}
		subject := req.Key
		if req.Op == "list" {
			subject = req.Prefix
		}
		if r.Match != "" && !strings.Contains(subject, r.Match) {
			continue
		}
		k := ""
		if r.PerKey {
			k = req.Op + " " + subject
		}
		if r.Times > 0 && r.hits[k] >= r.Times {
			continue
		}
		r.hits[k]++
		return r
	}
	return nil
}

var credRegion = regexp.MustCompile(`Credential=[^/]+/[0-9]+/([^/]+)/s3/`)

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	sts, deny := p.sts, p.deny
	p.mu.Unlock()
	if sts && r.Method == http.MethodPost && r.URL.Path == "/" {
		p.assumeRole(w, r, deny)
		return
	}
	req := parseRequest(r)
	p.mu.Lock()
	rule := p.match(req)
	var rr Rule
	if rule != nil {
		rr = *rule
		req.Fault = rr.Fault
	}
	p.mu.Unlock()

	if p.BucketRegion != "" {
		m := credRegion.FindStringSubmatch(r.Header.Get("Authorization"))
		if m == nil || m[1] != p.BucketRegion {
			req.Fault = "redirect"
			p.record(req)
			w.Header().Set("X-Amz-Bucket-Region", p.BucketRegion)
			if r.Method == http.MethodHead {
				w.WriteHeader(http.StatusMovedPermanently)
				return
			}
			writeError(w, http.StatusMovedPermanently, "PermanentRedirect", "The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.")
			return
		}
	}
	p.record(req)

	switch rr.Fault {
	case Fault503:
		writeError(w, http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate.")
		return
	case Fault500:
		writeError(w, http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again.")
		return
	case FaultDenied:
		code := rr.Code
		if code == "" {
			code = "AccessDenied"
		}
		msg := rr.Message
		if msg == "" {
			msg = "Access Denied"
		}
		writeError(w, http.StatusForbidden, code, msg)
		return
	case FaultStall:
		if rr.AfterBytes < 0 {
			if !sleepCtx(r.Context(), rr.Stall) {
				return
			}
		}
	}

	resp, err := p.forward(r)
	if err != nil {
		writeError(w, http.StatusBadGateway, "InternalError", err.Error())
		return
	}
	defer resp.Body.Close()
	for k, vs := range resp.Header {
		if strings.HasPrefix(strings.ToLower(k), "x-amz-checksum-") && rr.Fault != "" {
			continue // a cut body must fail as cut, not as a checksum mismatch
		}
		w.Header()[k] = vs
	}
	if rr.Fault == "" || rr.Fault == FaultStall && rr.AfterBytes < 0 {
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
		return
	}
	n := int64(rr.AfterBytes)
	if rr.Fault == FaultShortLength {
		w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
	}
	w.WriteHeader(resp.StatusCode)
	io.CopyN(w, resp.Body, n)
	w.(http.Flusher).Flush()
	switch rr.Fault {
	case FaultShortLength:
		return
	case FaultStall:
		if !sleepCtx(r.Context(), rr.Stall) {
			return
		}
		io.Copy(w, resp.Body)
		return
	case FaultReset, FaultTruncate:
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		if tc, ok := conn.(*net.TCPConn); ok && rr.Fault == FaultReset {
			tc.SetLinger(0) // close sends RST
		}
		conn.Close()
	}
}

// assumeRole answers an STS request (ServeSTS).
func (p *Proxy) assumeRole(w http.ResponseWriter, r *http.Request, deny bool) {
	r.ParseForm()
	f := r.PostForm
	req := Request{Method: r.Method, Op: "sts", Query: r.URL.RawQuery, Action: f.Get("Action"), RoleARN: f.Get("RoleArn"), Session: f.Get("RoleSessionName")}
	if deny {
		req.Fault = FaultDenied
	}
	p.record(req)
	w.Header().Set("Content-Type", "text/xml")
	if deny {
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprintf(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: arn:aws:iam::111122223333:user/auditor is not authorized to perform: sts:AssumeRole on resource: %s</Message></Error><RequestId>PROXY0000000002</RequestId></ErrorResponse>`,
			html.EscapeString(req.RoleARN))
		return
	}
	// arn:aws:iam::ACCOUNT:role/NAME assumed as SESSION is
	// arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION.
	assumed := strings.Replace(strings.Replace(req.RoleARN, ":iam:", ":sts:", 1), ":role/", ":assumed-role/", 1) + "/" + req.Session
	fmt.Fprintf(w, `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><AssumedRoleUser><AssumedRoleId>AROAEXAMPLE:%s</AssumedRoleId><Arn>%s</Arn></AssumedRoleUser><Credentials><AccessKeyId>%s</AccessKeyId><SecretAccessKey>%s</SecretAccessKey><SessionToken></SessionToken><Expiration>%s</Expiration></Credentials></AssumeRoleResult><ResponseMetadata><RequestId>PROXY0000000003</RequestId></ResponseMetadata></AssumeRoleResponse>`,
		html.EscapeString(req.Session), html.EscapeString(assumed), AccessKey, SecretKey, time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
}

func (p *Proxy) record(req Request) {
	p.mu.Lock()
	p.log = append(p.log, req)
	p.mu.Unlock()
}

func (p *Proxy) forward(r *http.Request) (*http.Response, error) {
	out := r.Clone(r.Context())
	out.RequestURI = ""
	out.URL.Scheme = p.target.Scheme
	out.URL.Host = p.target.Host
	out.Host = r.Host // the signature covers the Host the client used
	if r.ContentLength == 0 {
		out.Body = nil
	}
	return p.tr.RoundTrip(out)
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>%s</Code><Message>%s</Message><RequestId>PROXY0000000001</RequestId></Error>`, html.EscapeString(code), html.EscapeString(msg))
}
