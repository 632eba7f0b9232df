package ingest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckDisjoint(t *testing.T) {
	dir := t.TempDir()
	trail := filepath.Join(dir, "trail")
	trail2 := filepath.Join(dir, "trail2") // a sibling whose name starts like trail
	acct := filepath.Join(trail, "AWSLogs", "111122223333")
	file := filepath.Join(acct, "f.json.gz")
	for _, d := range []string{acct, trail2} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	rel, err := filepath.Rel(wd, trail)
	if err != nil {
		t.Fatal(err)
	}
	local := func(p string) Source { return &Local{Path: p} }
	s3 := func(bucket, prefix string) Source { return &S3Source{Bucket: bucket, Prefix: prefix} }
	s3obj := func(bucket, key string) Source { return &S3Source{Bucket: bucket, single: key} }
	lookup := func(regions ...string) Source { return &LookupSource{regions: regions, explicit: len(regions) > 0} }
	athena := func(table string) Source {
		return &AthenaSource{u: AthenaURL{WorkGroup: "wg", Database: "db", Table: table}}
	}
	for _, c := range []struct {
		name    string
		sources []Source
		overlap bool
	}{
		{"two siblings", []Source{local(trail), local(trail2)}, false},
		{"the same directory twice", []Source{local(trail), local(trail)}, true},
		{"the same directory, relative and with a trailing slash", []Source{local(trail), local(rel + "/")}, true},
		{"a directory and one inside it", []Source{local(acct), local(trail)}, true},
		{"a directory and a file inside it", []Source{local(trail), local(file)}, true},
		{"the same file twice", []Source{local(file), local(file)}, true},
		{"a file and its sibling directory", []Source{local(file), local(trail2)}, false},
		{"two buckets", []Source{s3("a", ""), s3("b", "")}, false},
		{"a bucket and a prefix in it", []Source{s3("a", ""), s3("a", "AWSLogs/o-1/")}, true},
		{"two account prefixes", []Source{s3("a", "AWSLogs/111122223333/"), s3("a", "AWSLogs/111122223334/")}, false},
		{"a prefix and an object under it", []Source{s3("a", "AWSLogs/"), s3obj("a", "AWSLogs/x.json.gz")}, true},
		{"an object and a longer key", []Source{s3obj("a", "k.json"), s3obj("a", "k.json.gz")}, false},
		{"a bucket named like a directory", []Source{s3("trail", ""), local(trail)}, false},
		{"two lookup sources", []Source{lookup("us-east-1"), lookup("eu-west-1")}, true},
		{"lookup and athena", []Source{lookup(), athena("t")}, false},
		{"two athena tables", []Source{athena("t1"), athena("t2")}, false},
		{"the same athena table twice", []Source{athena("t"), local(trail), athena("t")}, true},
	} {
		err := CheckDisjoint(c.sources)
		if (err != nil) != c.overlap {
			t.Errorf("%s: CheckDisjoint = %v, want overlap %v", c.name, err, c.overlap)
		}
		if err != nil && !strings.Contains(err.Error(), "overlap") {
			t.Errorf("%s: error %q does not say the sources overlap", c.name, err)
		}
	}
}
