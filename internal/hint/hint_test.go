package hint

import (
	"errors"
	"fmt"
	"testing"
)

// TestWith checks that a hint keeps the error's text and chain, and is
// found through further wrapping.
func TestWith(t *testing.T) {
	base := errors.New("base")
	err := fmt.Errorf("context: %w", With(base, "do this"))
	if err.Error() != "context: base" || !errors.Is(err, base) {
		t.Fatalf("got %q, which does not wrap base", err)
	}
	var h interface{ Hint() string }
	if !errors.As(err, &h) || h.Hint() != "do this" {
		t.Fatalf("no hint found in %q", err)
	}
	if With(nil, "x") != nil {
		t.Error("With(nil) is not nil")
	}
}
