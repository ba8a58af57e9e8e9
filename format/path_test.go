package format

import "testing"

func TestValidPath(t *testing.T) {
	tests := []struct {
		path string
		ok   bool
	}{
		{"a", true},
		{"a/b/c.txt", true},
		{".hidden", true},
		{"..data", true},
		{"a/...", true},
		{"with space/and\nnewline", true},
		{"\xff\xfe not utf-8", true},
		{"", false},
		{"/abs", false},
		{"/", false},
		{"a/", false},
		{"a//b", false},
		{".", false},
		{"..", false},
		{"a/./b", false},
		{"a/..", false},
		{"../x", false},
		{"a\x00b", false},
	}
	for _, tt := range tests {
		err := ValidPath(tt.path)
		if (err == nil) != tt.ok {
			t.Errorf("ValidPath(%q) = %v, want ok %t", tt.path, err, tt.ok)
		}
	}
}
