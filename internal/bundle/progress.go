package bundle

import (
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/bangerdev/banger/internal/units"
)

// NewProgressBar returns a FetchOptions.Progress callback that draws a
// byte progress bar on w (usually os.Stderr). total is the expected size,
// or -1 when unknown; the callback adopts the total it is given. The rate
// is shown once a second has passed: a local file:// archive is read in
// moments, and a rate over a few milliseconds means nothing.
func NewProgressBar(w io.Writer, total int64) func(done, total int64) {
	bar := progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription("runtime bundle"),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetPredictTime(false),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
	)
	current, start := total, time.Now()
	return func(done, total int64) {
		if total != current {
			current = total
			bar.ChangeMax64(total)
		}
		bar.Describe(progressLabel(done, total, time.Since(start)))
		_ = bar.Set64(done)
	}
}

// progressLabel is "runtime bundle 12 MiB/40 MiB, 8.1 MiB/s": the amount,
// and the average rate once elapsed reaches a second.
func progressLabel(done, total int64, elapsed time.Duration) string {
	s := "runtime bundle " + units.FormatSize(done)
	if total > 0 {
		s += "/" + units.FormatSize(total)
	}
	if elapsed >= time.Second {
		s += fmt.Sprintf(", %s/s", units.FormatSize(int64(float64(done)/elapsed.Seconds())))
	}
	return s
}
