package ingest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// scope is the set of source names (FileRef.Source) a Source can emit: the
// one name when exact, else every name that starts with prefix.
type scope struct {
	prefix string
	exact  bool
}

// scoped is implemented by the Sources of this package.
type scoped interface{ scope() scope }

func (l *Local) scope() scope {
	abs, err := filepath.Abs(l.Path)
	if err != nil {
		return scope{prefix: l.Path} // List reports the error
	}
	if st, err := os.Stat(abs); err == nil && !st.IsDir() {
		return scope{prefix: abs, exact: true}
	}
	return scope{prefix: strings.TrimSuffix(abs, string(filepath.Separator)) + string(filepath.Separator)}
}

func (s *S3Source) scope() scope {
	if s.single != "" {
		return scope{prefix: "s3://" + s.Bucket + "/" + s.single, exact: true}
	}
	return scope{prefix: "s3://" + s.Bucket + "/" + s.Prefix}
}

// A lookup:// source names its files lookup://ACCOUNT/REGION/…, so two of
// them overlap as soon as they share a region: they are never combined.
func (s *LookupSource) scope() scope { return scope{prefix: "lookup://"} }

func (s *AthenaSource) scope() scope {
	return scope{prefix: fmt.Sprintf("athena://%s/%s/%s/", s.u.WorkGroup, s.u.Database, s.u.Table)}
}

// overlaps reports whether a file could be in both scopes.
func (a scope) overlaps(b scope) bool {
	switch {
	case a.exact && b.exact:
		return a.prefix == b.prefix
	case a.exact:
		return strings.HasPrefix(a.prefix, b.prefix)
	case b.exact:
		return strings.HasPrefix(b.prefix, a.prefix)
	}
	return strings.HasPrefix(a.prefix, b.prefix) || strings.HasPrefix(b.prefix, a.prefix)
}

// CheckDisjoint returns an error when two of the sources could list the
// same file: the same directory twice, a directory and one inside it, a
// bucket prefix and a longer one, two lookup:// sources. A run reads each
// file once; the store's writer relies on it (it does not remember the
// files of the run it is writing, which for a year of an organization's
// trail would be tens of millions).
func CheckDisjoint(sources []Source) error {
	scopes := make([]scope, len(sources))
	for i, s := range sources {
		sc, ok := s.(scoped)
		if !ok {
			continue
		}
		scopes[i] = sc.scope()
		for j := 0; j < i; j++ {
			if scopes[j].prefix == "" || !scopes[i].overlaps(scopes[j]) {
				continue
			}
			hint := "name each place once"
			if strings.HasPrefix(scopes[i].prefix, "lookup://") {
				hint = "name every region in one lookup:// argument (lookup://us-east-1,eu-west-1)"
			}
			return fmt.Errorf("sources %s and %s overlap (the same files would be read twice): %s", sources[j], s, hint)
		}
	}
	return nil
}
