package tree

import (
	"slices"
	"testing"
)

func TestListingOrder(t *testing.T) {
	type entry struct {
		name string
		dir  bool
	}
	tests := []struct {
		name    string
		entries []entry
		want    []string // names; "name/" stands for the descent into a directory
	}{
		{"dot sorts before the subtree", []entry{{"a", true}, {"a.b", false}},
			[]string{"a", "a.b", "a/"}},
		{"dash and dot before, zero after", []entry{{"a0", false}, {"a", true}, {"a-", false}, {"a.b", true}},
			[]string{"a", "a-", "a.b", "a.b/", "a/", "a0"}},
		{"control bytes sort before the slash", []entry{{"x\x01", false}, {"x", true}, {"x ", false}},
			[]string{"x", "x\x01", "x ", "x/"}},
		{"non-UTF-8 sorts last", []entry{{"\xff", true}, {"z", false}, {"é", false}},
			[]string{"z", "é", "\xff", "\xff/"}},
		{"files only", []entry{{"b", false}, {"a", false}, {"-a", false}},
			[]string{"-a", "a", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var l listing
			for _, e := range tt.entries {
				k := kindFile
				if e.dir {
					k = kindDir
				}
				add(&l, e.name, k)
			}
			l.sort()
			var got []string
			for _, it := range l.items {
				s := string(l.name(it))
				if it.descend {
					s += "/"
				}
				got = append(got, s)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
