package bundle

import (
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"
)

// NewProgressBar returns a FetchOptions.Progress callback that draws a
// byte progress bar on w (usually os.Stderr). total is the expected size,
// or -1 when unknown; the callback adopts the total it is given.
func NewProgressBar(w io.Writer, total int64) func(done, total int64) {
	bar := progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription("runtime bundle"),
		progressbar.OptionShowBytes(true),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
	)
	current := total
	return func(done, total int64) {
		if total != current {
			current = total
			bar.ChangeMax64(total)
		}
		_ = bar.Set64(done)
	}
}
