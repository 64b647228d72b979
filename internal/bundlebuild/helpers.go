package bundlebuild

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/bangerdev/banger/scripts"
)

// helperFiles are the bundle entries stageHelpers writes (for managed).
func helperFiles() []string {
	out := make([]string, 0, len(scripts.Helpers))
	for _, h := range scripts.Helpers {
		out = append(out, h.File)
	}
	return out
}

// stageHelpers writes the shell helpers (scripts/, embedded) into the bundle
// and lists them under "helpers" in bundle.json.
func stageHelpers(stage string, meta *metadata) error {
	if meta.m.Helpers == nil {
		meta.m.Helpers = map[string]string{}
	}
	for _, h := range scripts.Helpers {
		b, err := scripts.FS.ReadFile(h.File)
		if err != nil {
			return fmt.Errorf("bundle build: helper %s: %w", h.File, err)
		}
		mode := os.FileMode(0o644)
		if h.Executable {
			mode = 0o755
		}
		if err := os.WriteFile(filepath.Join(stage, h.File), b, mode); err != nil {
			return fmt.Errorf("bundle build: helper %s: %w", h.File, err)
		}
		meta.m.Helpers[h.Name] = h.File
	}
	return nil
}
