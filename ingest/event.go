package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/valyala/fastjson"
)

// OptBool is a boolean that may be absent from a record. The zero value is
// "absent" (stored as SQL NULL).
type OptBool uint8

// The values of OptBool.
const (
	Absent OptBool = iota
	False
	True
)

// Value returns nil for Absent, else the bool: what the database layer
// stores (NULL, false, true).
func (b OptBool) Value() any {
	if b == Absent {
		return nil
	}
	return b == True
}

// Event is the typed part of one kept CloudTrail record. Strings are empty
// when the record lacks the field; all times are UTC.
type Event struct {
	EventID            string
	EventVersion       string
	EventTime          time.Time
	EventSource        string
	EventName          string
	EventType          string
	AWSRegion          string
	RecipientAccountID string
	IdentityType       string
	IdentityARN        string
	IdentityAccountID  string
	PrincipalID        string
	UserName           string
	AccessKeyID        string
	InvokedBy          string
	SessionIssuerARN   string
	SessionCreated     time.Time // sessionContext.attributes.creationDate; zero if absent
	MFAAuthenticated   OptBool   // sessionContext.attributes.mfaAuthenticated, any case
	ConsoleSession     OptBool   // top-level sessionCredentialFromConsole
	SourceIP           string
	UserAgent          string
	ErrorCode          string
	ErrorMessage       string
	RequestID          string
	ReadOnly           OptBool
	LoginResult        string  // responseElements.ConsoleLogin: Success or Failure
	MFAUsed            OptBool // additionalEventData.MFAUsed (Yes/No, any case)

	// AssumeRoot request and response (REFERENCE.md §4.1).
	TargetPrincipal string    // requestParameters.targetPrincipal, as logged
	TargetAccount   string    // the 12-digit account of TargetPrincipal
	TaskPolicyARN   string    // requestParameters.taskPolicyArn.arn
	DurationSeconds int64     // requestParameters.durationSeconds; -1 when absent
	IssuedKeyID     string    // responseElements.credentials.accessKeyId
	ExpirationRaw   string    // responseElements.credentials.expiration, as logged
	Expiration      time.Time // ExpirationRaw parsed; zero when absent or unparseable

	// ServicePrincipal is requestParameters.servicePrincipal (for
	// organizations:EnableAWSServiceAccess).
	ServicePrincipal string

	// Raw is the whole record as JSON with every sessionToken redacted. It is
	// a copy owned by the Event.
	Raw []byte
}

// Needles the pre-filter looks for. "Root" is inside every kept shape's
// decisive text ("Root" identity type, AssumeRoot, Enable/Disable
// OrganizationsRoot…); "ServiceAccess" catches organizations:Enable/
// DisableAWSServiceAccess, whose record may not mention Root at all. JSON
// may spell any letter as a \uXXXX escape; CloudTrail does not, but a record
// that does is decoded rather than trusted to the byte test.
var (
	needleRoot    = []byte("Root")
	needleService = []byte("WSServiceAccess")
	needleEscape  = []byte(`\u`)
)

// Candidate is the cheap byte-level test: it reports whether raw JSON (a
// record or a whole file) could hold a record that rootaudit keeps. Every
// kept shape has "Root" in a decisive place: a "type" key has the string
// value "Root" (userIdentity.type), the call is AssumeRoot, or it is an
// Enable/DisableOrganizationsRoot… switch; organizations:EnableAWSServiceAccess
// is caught by "WSServiceAccess" (a rarer first byte than "ServiceAccess"
// makes it twice as fast to search), and any \u escape (JSON may spell a letter
// that way; CloudTrail does not) makes the input a candidate too. Decoys
// that merely contain Root (a role named Root, a user agent
// "RootCauseAnalyzer", a policy mentioning sts:AssumeRoot) may pass; Decode
// is the only judge. Candidate must never say no to a record that Keep
// accepts: FuzzCandidateNeverMisses checks that.
func Candidate(b []byte) bool {
	for i := 0; ; {
		j := bytes.Index(b[i:], needleRoot)
		if j < 0 {
			break
		}
		k := i + j
		switch {
		case k > 0 && b[k-1] == '"' && k+4 < len(b) && b[k+4] == '"' && typeKeyBefore(b, k-1):
			return true
		case k >= 6 && string(b[k-6:k]) == "Assume":
			return true
		case k >= 13 && string(b[k-13:k]) == "Organizations":
			return true
		}
		i = k + len(needleRoot)
	}
	return bytes.Contains(b, needleService) || bytes.Contains(b, needleEscape)
}

// typeKeyBefore reports whether the string value whose opening quote is at
// q is the value of a "type" key (`"type"`, white space, ':', white space,
// then the quote), or of a "userIdentity" key (a malformed identity must
// reach the decoder to be reported). A role or user that is merely named
// Root is not.
func typeKeyBefore(b []byte, q int) bool {
	i := q - 1
	for i >= 0 && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i--
	}
	if i < 0 || b[i] != ':' {
		return false
	}
	i--
	for i >= 0 && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i--
	}
	return i >= 5 && string(b[i-5:i+1]) == `"type"` || i >= 13 && string(b[i-13:i+1]) == `"userIdentity"`
}

// orgSwitches are the organization-level switches of REFERENCE.md §4.4.
var orgSwitches = map[string]bool{
	"EnableOrganizationsRootCredentialsManagement":  true,
	"EnableOrganizationsRootSessions":               true,
	"DisableOrganizationsRootCredentialsManagement": true,
	"DisableOrganizationsRootSessions":              true,
}

// Keep reports whether an event belongs in the store: every root-principal
// event, every AssumeRoot call (successful or not), and the organization
// switches that turn centralized root access on and off.
func Keep(e *Event) bool {
	switch {
	case e.IdentityType == "Root":
		return true
	case e.EventName == "AssumeRoot" && e.EventSource == "sts.amazonaws.com":
		return true
	case e.EventSource == "iam.amazonaws.com" && orgSwitches[e.EventName]:
		return true
	case e.EventSource == "organizations.amazonaws.com" &&
		(e.EventName == "EnableAWSServiceAccess" || e.EventName == "DisableAWSServiceAccess") &&
		e.ServicePrincipal == "iam.amazonaws.com":
		return true
	}
	return false
}

// Decoder decodes candidate records. It reuses its parser and arena, so one
// Decoder belongs to one goroutine.
type Decoder struct {
	p fastjson.Parser
	a fastjson.Arena
}

// fieldError names the field whose JSON type is wrong.
type fieldError struct {
	path string
	got  fastjson.Type
	want string
}

func (e *fieldError) Error() string {
	return fmt.Sprintf("field %s is %s, want %s", e.path, e.got, e.want)
}

// str reads an optional string field: absent or null gives "".
func str(v *fastjson.Value, path string, keys ...string) (string, error) {
	f := v.Get(keys...)
	if f == nil || f.Type() == fastjson.TypeNull {
		return "", nil
	}
	if f.Type() != fastjson.TypeString {
		return "", &fieldError{path, f.Type(), "a string"}
	}
	b, _ := f.StringBytes()
	return string(b), nil
}

// obj checks that an optional field is an object (or absent/null).
func obj(v *fastjson.Value, path string, keys ...string) error {
	f := v.Get(keys...)
	if f == nil || f.Type() == fastjson.TypeNull || f.Type() == fastjson.TypeObject {
		return nil
	}
	return &fieldError{path, f.Type(), "an object"}
}

// optBool reads true/false as a JSON boolean or a string in any case
// ("true", "True", "Yes", "YES", "No").
func optBool(v *fastjson.Value, keys ...string) OptBool {
	f := v.Get(keys...)
	if f == nil {
		return Absent
	}
	switch f.Type() {
	case fastjson.TypeTrue:
		return True
	case fastjson.TypeFalse:
		return False
	case fastjson.TypeString:
		b, _ := f.StringBytes()
		switch strings.ToLower(string(b)) {
		case "true", "yes":
			return True
		case "false", "no":
			return False
		}
	}
	return Absent
}

// ErrNotKept is returned by Decode for a record that is not kept.
var ErrNotKept = errors.New("record not kept")

// Decode parses one raw record, decides whether it is kept, and fills e. It
// returns ErrNotKept for records that are not root-relevant (their other
// fields are not checked), and an error naming the field for a kept or
// undecidable record whose shape is wrong. e.Raw is a fresh copy.
func (d *Decoder) Decode(rec []byte, e *Event) error {
	v, err := d.p.ParseBytes(rec)
	if err != nil {
		return fmt.Errorf("invalid JSON: %w", err)
	}
	if v.Type() != fastjson.TypeObject {
		return fmt.Errorf("record is %s, want an object", v.Type())
	}
	*e = Event{DurationSeconds: -1}
	// Fields that decide Keep are checked strictly: a record whose shape
	// hides its identity cannot be judged, so it fails the file rather than
	// being silently dropped.
	for _, p := range [][]string{{"userIdentity"}, {"userIdentity", "sessionContext"}, {"requestParameters"}, {"responseElements"}} {
		if err := obj(v, strings.Join(p, "."), p...); err != nil {
			return err
		}
	}
	if e.IdentityType, err = str(v, "userIdentity.type", "userIdentity", "type"); err != nil {
		return err
	}
	if e.EventSource, err = str(v, "eventSource", "eventSource"); err != nil {
		return err
	}
	if e.EventName, err = str(v, "eventName", "eventName"); err != nil {
		return err
	}
	if e.EventSource == "organizations.amazonaws.com" {
		// servicePrincipal decides Keep for EnableAWSServiceAccess.
		e.ServicePrincipal, _ = str(v, "", "requestParameters", "servicePrincipal")
	}
	if !Keep(e) {
		return ErrNotKept
	}
	// A kept record is stored as text; DuckDB requires valid UTF-8, and a
	// record that is not is no CloudTrail output.
	if !utf8.Valid(rec) {
		return errors.New("kept record is not valid UTF-8")
	}
	return d.fill(rec, v, e)
}

// fill decodes the fields of a kept record.
func (d *Decoder) fill(rec []byte, v *fastjson.Value, e *Event) error {
	var err error
	strs := []struct {
		dst  *string
		path []string
	}{
		{&e.EventID, []string{"eventID"}},
		{&e.EventVersion, []string{"eventVersion"}},
		{&e.EventType, []string{"eventType"}},
		{&e.AWSRegion, []string{"awsRegion"}},
		{&e.RecipientAccountID, []string{"recipientAccountId"}},
		{&e.IdentityARN, []string{"userIdentity", "arn"}},
		{&e.IdentityAccountID, []string{"userIdentity", "accountId"}},
		{&e.PrincipalID, []string{"userIdentity", "principalId"}},
		{&e.UserName, []string{"userIdentity", "userName"}},
		{&e.AccessKeyID, []string{"userIdentity", "accessKeyId"}},
		{&e.InvokedBy, []string{"userIdentity", "invokedBy"}},
		{&e.SourceIP, []string{"sourceIPAddress"}},
		{&e.UserAgent, []string{"userAgent"}},
		{&e.ErrorCode, []string{"errorCode"}},
		{&e.ErrorMessage, []string{"errorMessage"}},
		{&e.RequestID, []string{"requestID"}},
	}
	for _, s := range strs {
		if *s.dst, err = str(v, strings.Join(s.path, "."), s.path...); err != nil {
			return err
		}
	}
	if e.EventID == "" {
		return errors.New("kept record has no eventID")
	}
	ts, err := str(v, "eventTime", "eventTime")
	if err != nil {
		return err
	}
	if ts == "" {
		return fmt.Errorf("kept record %s has no eventTime", e.EventID)
	}
	if e.EventTime, err = time.Parse(time.RFC3339, ts); err != nil {
		return fmt.Errorf("kept record %s: eventTime %q is not an RFC 3339 time", e.EventID, clip(ts))
	}
	e.EventTime = e.EventTime.UTC()
	e.SessionIssuerARN, _ = str(v, "", "userIdentity", "sessionContext", "sessionIssuer", "arn")
	if cd, _ := str(v, "", "userIdentity", "sessionContext", "attributes", "creationDate"); cd != "" {
		if t, err := time.Parse(time.RFC3339, cd); err == nil {
			e.SessionCreated = t.UTC()
		}
	}
	e.MFAAuthenticated = optBool(v, "userIdentity", "sessionContext", "attributes", "mfaAuthenticated")
	e.ConsoleSession = optBool(v, "sessionCredentialFromConsole")
	e.ReadOnly = optBool(v, "readOnly")
	e.MFAUsed = optBool(v, "additionalEventData", "MFAUsed")
	e.LoginResult, _ = str(v, "", "responseElements", "ConsoleLogin")

	if e.EventName == "AssumeRoot" {
		e.TargetPrincipal, _ = str(v, "", "requestParameters", "targetPrincipal")
		e.TargetAccount = AccountOf(e.TargetPrincipal)
		if tp := v.Get("requestParameters", "taskPolicyArn"); tp != nil {
			if tp.Type() == fastjson.TypeString {
				b, _ := tp.StringBytes()
				e.TaskPolicyARN = string(b)
			} else {
				e.TaskPolicyARN, _ = str(v, "", "requestParameters", "taskPolicyArn", "arn")
			}
		}
		if ds := v.Get("requestParameters", "durationSeconds"); ds != nil {
			switch ds.Type() {
			case fastjson.TypeNumber:
				if n, err := ds.Int64(); err == nil {
					e.DurationSeconds = n
				}
			case fastjson.TypeString:
				b, _ := ds.StringBytes()
				if n, err := strconv.ParseInt(string(b), 10, 64); err == nil {
					e.DurationSeconds = n
				}
			}
		}
		e.IssuedKeyID, _ = str(v, "", "responseElements", "credentials", "accessKeyId")
		e.ExpirationRaw, _ = str(v, "", "responseElements", "credentials", "expiration")
		e.Expiration = ParseExpiration(e.ExpirationRaw)
	}
	// Keep the record byte for byte unless a secret had to be replaced.
	if redact(v, &d.a, 0) {
		e.Raw = v.MarshalTo(nil)
	} else {
		e.Raw = append([]byte(nil), rec...)
	}
	d.a.Reset()
	return nil
}

// Redacted replaces secret values in stored raw JSON.
const Redacted = "REDACTED"

// redact replaces the value of every "sessionToken" key (at any depth, in
// any letter case: a token copied into request parameters or a lookup:// or
// Athena record need not keep AWS's spelling) and reports whether it changed
// anything.
func redact(v *fastjson.Value, a *fastjson.Arena, depth int) bool {
	if depth > 64 {
		return false
	}
	changed := false
	switch v.Type() {
	case fastjson.TypeObject:
		o, _ := v.Object()
		var secret [][]byte
		o.Visit(func(k []byte, c *fastjson.Value) {
			if len(k) == len("sessionToken") && strings.EqualFold(string(k), "sessionToken") {
				secret = append(secret, k)
				return
			}
			if redact(c, a, depth+1) {
				changed = true
			}
		})
		for _, k := range secret {
			o.Set(string(k), a.NewString(Redacted))
			changed = true
		}
	case fastjson.TypeArray:
		arr, _ := v.Array()
		for _, c := range arr {
			if redact(c, a, depth+1) {
				changed = true
			}
		}
	}
	return changed
}

// AccountOf returns the 12-digit account in an account ID or an ARN such as
// arn:aws:iam::111122223333:root (any partition), or "" when there is none.
func AccountOf(p string) string {
	p = strings.TrimSpace(p)
	if IsAccountID(p) {
		return p
	}
	if strings.HasPrefix(p, "arn:") {
		parts := strings.SplitN(p, ":", 6)
		if len(parts) == 6 && IsAccountID(parts[4]) {
			return parts[4]
		}
	}
	return ""
}

// expirationLayouts are the forms AssumeRoot's credentials.expiration takes
// (REFERENCE.md §4.1): a non-ISO English date, with or without the comma
// after the year, and ISO 8601 in case AWS changes it.
var expirationLayouts = []string{
	"Jan 2, 2006, 3:04:05 PM",
	"Jan 2, 2006 3:04:05 PM",
	"Jan 2 2006, 3:04:05 PM",
	"Jan 2 2006 3:04:05 PM",
	time.RFC3339,
	"2006-01-02T15:04:05.000Z",
}

// ParseExpiration parses an AssumeRoot expiration as UTC; it returns the zero
// time when no layout fits, and callers then fall back to issue time plus
// duration.
func ParseExpiration(s string) time.Time {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}
	}
	for _, l := range expirationLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
