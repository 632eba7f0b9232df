package ingest

import (
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// OrgAccount is one account from `aws organizations list-accounts`.
type OrgAccount struct {
	ID     string
	Name   string
	Email  string
	Status string
	Joined time.Time // JoinedTimestamp, UTC; zero when absent
}

// ReadOrgAccounts reads the JSON that `aws organizations list-accounts`
// prints ({"Accounts":[{"Id":…,"Name":…,"JoinedTimestamp":…}]}); a bare
// array of the same objects is accepted too.
func ReadOrgAccounts(path string) ([]OrgAccount, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read accounts file: %w", err)
	}
	type acct struct {
		ID, Arn, Email, Name, Status, JoinedMethod string
		JoinedTimestamp                            string
	}
	var doc struct{ Accounts []acct }
	if err := json.Unmarshal(b, &doc); err != nil {
		var arr []acct
		if err2 := json.Unmarshal(b, &arr); err2 != nil {
			return nil, fmt.Errorf("parse accounts file %s: %w", path, err)
		}
		doc.Accounts = arr
	}
	out := make([]OrgAccount, 0, len(doc.Accounts))
	for i, a := range doc.Accounts {
		if !IsAccountID(a.ID) {
			return nil, fmt.Errorf("parse accounts file %s: entry %d: Id %q is not a 12-digit account ID", path, i+1, a.ID)
		}
		o := OrgAccount{ID: a.ID, Name: a.Name, Email: a.Email, Status: a.Status}
		if a.JoinedTimestamp != "" {
			for _, l := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999-07:00", "2006-01-02T15:04:05.999999999Z07:00"} {
				if t, err := time.Parse(l, a.JoinedTimestamp); err == nil {
					o.Joined = t.UTC()
					break
				}
			}
		}
		out = append(out, o)
	}
	return out, nil
}
