package schema

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/validate"
)

// Document is one kind's schema, or with kind "" the bundle of all kinds.
func Document(kind validate.Kind, idType channel.IDType) ([]byte, error) {
	if kind == "" {
		return Bundle(idType)
	}
	return Get(kind, idType)
}

// WriteDir writes one KIND.schema.json per kind into dir (created if
// missing), naming each file on log. Filesystem errors are *fs.PathError.
func WriteDir(dir string, kinds []validate.Kind, idType channel.IDType, log io.Writer) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, k := range kinds {
		data, err := Get(k, idType)
		if err != nil {
			return err
		}
		path := filepath.Join(dir, FileName(k))
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(log, "wrote %s\n", path)
	}
	return nil
}
