package sandbox

import (
	"fmt"
	"os"
)

// statDir returns what os.Stat says of dir, refusing anything but a
// directory; checkCacheDir adds what the platform can check beyond it.
func statDir(dir string) (os.FileInfo, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", dir)
	}
	return fi, nil
}
