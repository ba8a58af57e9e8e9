package diff

import (
	"github.com/ibt-tools/ibt/internal/streamtest"
)

// indexOf and readAll build an index of entries and read a whole stream.
var indexOf, readAll = streamtest.Index, streamtest.Records
