package main

import (
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/sealkit/sealkit/flylaunch"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	flygo "github.com/superfly/fly-go"
)

// The deploy files TestDockerfile and TestFlyToml check.
const (
	dockerfilePath = "deploy/Dockerfile"
	flyTomlPath    = "deploy/fly.toml"
)

// instruction is one Dockerfile instruction: its keyword, upper case, and
// the rest of its (joined) lines.
type instruction struct {
	cmd, args string
}

// stage is one FROM stage of a Dockerfile.
type stage struct {
	image, name string
	body        []instruction
}

// parseDockerfile splits a Dockerfile into stages: comments and blank lines
// go, lines ending in a backslash are joined (Docker's default escape).
func parseDockerfile(src string) ([]stage, error) {
	var stages []stage
	var cur strings.Builder
	for line := range strings.Lines(src) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if rest, ok := strings.CutSuffix(line, `\`); ok {
			cur.WriteString(rest + " ")
			continue
		}
		cur.WriteString(line)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		cur.Reset()
		in := instruction{cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args)}
		if in.cmd == "FROM" {
			f := strings.Fields(in.args)
			s := stage{image: f[0]}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				s.name = f[2]
			}
			stages = append(stages, s)
			continue
		}
		if len(stages) == 0 {
			return nil, fmt.Errorf("%s before FROM", in.cmd)
		}
		stages[len(stages)-1].body = append(stages[len(stages)-1].body, in)
	}
	if cur.Len() > 0 {
		return nil, errors.New("the last line continues")
	}
	return stages, nil
}

// find returns the arguments of the stage's instructions named cmd.
func (s stage) find(cmd string) []string {
	var out []string
	for _, in := range s.body {
		if in.cmd == cmd {
			out = append(out, in.args)
		}
	}
	return out
}

// execForm parses a JSON exec-form argument (["/launcher", "-addr", ...]).
func execForm(t *testing.T, args string) []string {
	t.Helper()
	var v []string
	require.NoError(t, json.Unmarshal([]byte(args), &v), "exec form %s", args)
	return v
}

// shellWords splits a command line as a POSIX shell does for plain words
// and quoted strings (no escapes, no expansions): enough for a build line
// and for fly.toml's process command, which flyctl splits with shlex.
func shellWords(s string) ([]string, error) {
	var words []string
	var w strings.Builder
	in, quote := false, rune(0)
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			w.WriteRune(r)
		case r == '"' || r == '\'':
			quote, in = r, true
		case r == '\\' || r == '$' || r == '`':
			return nil, fmt.Errorf("%q: escapes and expansions are not supported", s)
		case r == ' ' || r == '\t':
			if in {
				words = append(words, w.String())
				w.Reset()
				in = false
			}
		default:
			w.WriteRune(r)
			in = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("%q: unterminated quote", s)
	}
	if in {
		words = append(words, w.String())
	}
	return words, nil
}

func FuzzShellWords(f *testing.F) {
	for _, s := range []string{`go build -ldflags="-s -w" -o /out/x ./y`, `a 'b c' "d"`, `"`, ``} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		words, err := shellWords(s)
		if err != nil {
			return
		}
		for _, w := range words {
			if strings.ContainsAny(w, " \t") && !strings.ContainsAny(s, `"'`) {
				t.Fatalf("%q split into %q", s, words)
			}
		}
	})
}

// goBuildLine is the Dockerfile's `go build`: its environment assignments
// and its arguments after "go build".
type goBuildLine struct {
	env  []string
	args []string
}

// parseGoBuild finds "VAR=value... go build args..." in a RUN argument.
func parseGoBuild(run string) (goBuildLine, bool) {
	words, err := shellWords(run)
	if err != nil {
		return goBuildLine{}, false
	}
	var l goBuildLine
	for i, w := range words {
		switch {
		case w == "go" && i+1 < len(words) && words[i+1] == "build":
			l.args = words[i+2:]
			return l, true
		case strings.Contains(w, "="):
			l.env = append(l.env, w)
		default:
			return goBuildLine{}, false
		}
	}
	return goBuildLine{}, false
}

// flagValue returns the value of flag name in args ("-o x" or "-o=x").
func flagValue(args []string, name string) (string, bool) {
	for i, a := range args {
		if a == name && i+1 < len(args) {
			return args[i+1], true
		}
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v, true
		}
	}
	return "", false
}

// pinned reports whether an image reference names a fixed tag (not latest)
// or a digest.
func pinned(image string) bool {
	if strings.Contains(image, "@sha256:") {
		return true
	}
	i := strings.LastIndex(image, ":")
	return i > strings.LastIndex(image, "/") && image[i+1:] != "latest"
}

// TestDockerfile checks the launcher's Dockerfile (docker is not
// available here): a multi-stage build from pinned images, whose last
// stage runs the launcher as a non-root user from a distroless static
// base, and builds the binary statically; then it builds that binary with
// the Dockerfile's own go build line and checks it is static.
func TestDockerfile(t *testing.T) {
	src, err := os.ReadFile(dockerfilePath)
	require.NoError(t, err)
	stages, err := parseDockerfile(string(src))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(stages), 2, "a multi-stage build")
	for _, s := range stages {
		assert.True(t, pinned(s.image), "base image %s is pinned by tag or digest", s.image)
	}

	final := stages[len(stages)-1]
	assert.True(t, strings.HasPrefix(final.image, "gcr.io/distroless/static") || final.image == "scratch",
		"the final stage is distroless/static or scratch, got %s", final.image)
	assert.Empty(t, final.find("RUN"), "the final stage runs nothing: it has no shell")
	users := final.find("USER")
	require.NotEmpty(t, users, "the final stage sets a USER")
	user, _, _ := strings.Cut(users[len(users)-1], ":")
	assert.NotContains(t, []string{"root", "0", ""}, user, "the launcher does not run as root")

	entry := final.find("ENTRYPOINT")
	require.Len(t, entry, 1)
	binPath := execForm(t, entry[0])
	require.Len(t, binPath, 1, "ENTRYPOINT is the launcher alone; arguments come from CMD or fly.toml")
	var copied string
	for _, c := range final.find("COPY") {
		f := strings.Fields(c)
		if len(f) == 3 && strings.HasPrefix(f[0], "--from=") && f[2] == binPath[0] {
			copied = f[1]
			require.Equal(t, "--from="+stages[0].name, f[0], "the binary comes from the build stage")
		}
	}
	require.NotEmpty(t, copied, "the final stage copies the binary to %s", binPath[0])

	var build goBuildLine
	for _, run := range stages[0].find("RUN") {
		if l, ok := parseGoBuild(run); ok {
			build = l
		}
	}
	require.NotEmpty(t, build.args, "the build stage runs go build")
	assert.Contains(t, build.env, "CGO_ENABLED=0")
	assert.Contains(t, build.args, "-trimpath")
	ldflags, _ := flagValue(build.args, "-ldflags")
	assert.ElementsMatch(t, []string{"-s", "-w"}, strings.Fields(ldflags))
	out, ok := flagValue(build.args, "-o")
	require.True(t, ok)
	assert.Equal(t, copied, out, "the final stage copies what go build wrote")
	assert.Equal(t, "./example/launcher", build.args[len(build.args)-1])

	cmd := final.find("CMD")
	require.Len(t, cmd, 1)
	c, err := parseConfig(execForm(t, cmd[0]), env(nil), io.Discard)
	require.NoError(t, err, "the image's default arguments are valid launcher flags")
	assert.Equal(t, 8080, portOf(t, c.addr))

	// Build what the Dockerfile builds, as it does, and check the result.
	bin := filepath.Join(t.TempDir(), "launcher")
	args := slices.Clone(build.args)
	args[slices.Index(args, "-o")+1] = bin
	gb := exec.Command("go", append([]string{"build"}, args...)...)
	gb.Dir = "../.." // the build context: the repository root
	gb.Env = append(os.Environ(), build.env...)
	outb, err := gb.CombinedOutput()
	require.NoError(t, err, "go build: %s", outb)
	checkStatic(t, bin)
}

// checkStatic checks that bin is a statically linked ELF executable with
// no symbol table, no DWARF and no path of this machine in it.
func checkStatic(t *testing.T, bin string) {
	t.Helper()
	f, err := elf.Open(bin)
	require.NoError(t, err)
	defer f.Close()
	for _, p := range f.Progs {
		assert.NotEqual(t, elf.PT_INTERP, p.Type, "no program interpreter: statically linked")
		assert.NotEqual(t, elf.PT_DYNAMIC, p.Type, "no dynamic section")
	}
	assert.Nil(t, f.Section(".dynamic"))
	assert.Nil(t, f.Section(".interp"))
	assert.Nil(t, f.Section(".symtab"), "-s: no symbol table")
	assert.Nil(t, f.Section(".debug_info"), "-w: no DWARF")
	libs, err := f.ImportedLibraries()
	require.NoError(t, err)
	assert.Empty(t, libs)
	raw, err := os.ReadFile(bin)
	require.NoError(t, err)
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	assert.NotContains(t, string(raw), root, "-trimpath: no path of the build machine")
}

// portOf returns the port of a host:port listen address.
func portOf(t *testing.T, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	n, err := strconv.Atoi(p)
	require.NoError(t, err)
	return n
}

// killTimeout is fly.toml's kill_timeout as flyctl reads it: an integer
// is seconds, a string a Go duration.
type killTimeout struct{ time.Duration }

func (k *killTimeout) UnmarshalTOML(v any) error {
	if n, ok := v.(int64); ok {
		k.Duration = time.Duration(n) * time.Second
		return nil
	}
	d := flygo.Duration{}
	if err := d.UnmarshalTOML(v); err != nil {
		return err
	}
	k.Duration = d.Duration
	return nil
}

// flyToml holds the fields of fly.toml that Fly reads, with the keys and
// types of flyctl's appconfig.Config (fly-go's Duration and
// MachineAutostop). Decoding fails on any key not listed here, so every
// setting in the file is one this test knows.
type flyToml struct {
	App           string       `toml:"app"`
	PrimaryRegion string       `toml:"primary_region"`
	KillSignal    string       `toml:"kill_signal"`
	KillTimeout   *killTimeout `toml:"kill_timeout"`
	Build         struct {
		Dockerfile string `toml:"dockerfile"`
	} `toml:"build"`
	Deploy struct {
		Strategy       string   `toml:"strategy"`
		MaxUnavailable *float64 `toml:"max_unavailable"`
	} `toml:"deploy"`
	Env         map[string]string `toml:"env"`
	Processes   map[string]string `toml:"processes"`
	HTTPService *struct {
		Processes          []string               `toml:"processes"`
		InternalPort       int                    `toml:"internal_port"`
		ForceHTTPS         bool                   `toml:"force_https"`
		AutoStopMachines   *flygo.MachineAutostop `toml:"auto_stop_machines"`
		AutoStartMachines  *bool                  `toml:"auto_start_machines"`
		MinMachinesRunning *int                   `toml:"min_machines_running"`
		Concurrency        *struct {
			Type      string `toml:"type"`
			SoftLimit int    `toml:"soft_limit"`
			HardLimit int    `toml:"hard_limit"`
		} `toml:"concurrency"`
		Checks []struct {
			GracePeriod *flygo.Duration `toml:"grace_period"`
			Interval    *flygo.Duration `toml:"interval"`
			Timeout     *flygo.Duration `toml:"timeout"`
			Method      string          `toml:"method"`
			Path        string          `toml:"path"`
		} `toml:"checks"`
	} `toml:"http_service"`
	VM []struct {
		Size   string `toml:"size"`
		Memory string `toml:"memory"`
	} `toml:"vm"`
}

// loadFlyToml decodes deploy/fly.toml strictly.
func loadFlyToml(t *testing.T) flyToml {
	t.Helper()
	var ft flyToml
	md, err := toml.DecodeFile(flyTomlPath, &ft)
	require.NoError(t, err)
	require.Empty(t, md.Undecoded(), "fly.toml keys this test does not know")
	return ft
}

// flyArgs returns the launcher's command line from fly.toml, split as
// flyctl splits a process command.
func flyArgs(t *testing.T, ft flyToml) []string {
	t.Helper()
	cmd, ok := ft.Processes["app"]
	require.True(t, ok, "fly.toml gives the app process's command")
	args, err := shellWords(cmd)
	require.NoError(t, err)
	return args
}

// flyEnv is the environment of a Fly machine of the app: Fly sets the
// FLY_ variables, secrets set the rest.
func flyEnv(app string) func(string) string {
	return env(map[string]string{
		"FLY_APP_NAME": app, "FLY_MACHINE_ID": "148ed193b95089", "FLY_REGION": "ams",
		"FLY_API_TOKEN": "secret-token", "SECRET_KEY_BASE": testKeyBase, "HOME": "/home/nonroot",
	})
}

// TestFlyToml checks the fly.toml that deploys the launcher against the
// launcher itself: health check path and timing, kill timeout above the
// drain, internal port equal to the port the launcher listens on, at least
// two machines, HTTPS, the launcher's flags, and no secret in the file.
func TestFlyToml(t *testing.T) {
	ft := loadFlyToml(t)
	require.NoError(t, flylaunch.ValidateAppName(ft.App))
	assert.NotEmpty(t, ft.PrimaryRegion)

	assert.Equal(t, "SIGTERM", ft.KillSignal, "main drains on SIGTERM")
	require.NotNil(t, ft.KillTimeout)
	assert.Greater(t, ft.KillTimeout.Duration, shutdownTimeout, "Fly waits out the graceful drain before it kills")
	assert.LessOrEqual(t, ft.KillTimeout.Duration, 300*time.Second, "Fly's maximum")

	assert.FileExists(t, filepath.Join(filepath.Dir(flyTomlPath), ft.Build.Dockerfile), "the Dockerfile is next to fly.toml")
	assert.Contains(t, []string{"", "rolling"}, ft.Deploy.Strategy)
	require.NotNil(t, ft.Deploy.MaxUnavailable)
	assert.Equal(t, 1.0, *ft.Deploy.MaxUnavailable, "a deploy replaces one machine at a time")

	hs := ft.HTTPService
	require.NotNil(t, hs, "an HTTP service: Fly's proxy, HTTPS, health checks, and two machines on fly deploy")
	assert.Equal(t, []string{"app"}, hs.Processes)
	assert.True(t, hs.ForceHTTPS)
	require.NotNil(t, hs.MinMachinesRunning)
	assert.GreaterOrEqual(t, *hs.MinMachinesRunning, 2, "two machines keep running")
	require.NotNil(t, hs.AutoStartMachines)
	assert.True(t, *hs.AutoStartMachines, "a stopped machine comes back")
	if hs.AutoStopMachines != nil && *hs.AutoStopMachines != flygo.MachineAutostopOff {
		assert.Equal(t, flygo.MachineAutostopStop, *hs.AutoStopMachines, "a stopped machine drains; a suspended one would not")
	}
	require.NotNil(t, hs.Concurrency)
	assert.Equal(t, "connections", hs.Concurrency.Type, "page connections are long-lived")
	assert.LessOrEqual(t, hs.Concurrency.SoftLimit, hs.Concurrency.HardLimit)
	assert.GreaterOrEqual(t, hs.Concurrency.HardLimit, 10*defaultMaxConnsPerClient)

	require.Len(t, hs.Checks, 1)
	check := hs.Checks[0]
	assert.Equal(t, "/healthz", check.Path, "liveness: routing must not depend on the Fly API (/readyz)")
	assert.Equal(t, http.MethodGet, strings.ToUpper(check.Method))
	require.NotNil(t, check.Timeout)
	assert.GreaterOrEqual(t, check.Timeout.Duration, time.Second)
	require.NotNil(t, check.GracePeriod)
	require.NotNil(t, check.Interval)

	args := flyArgs(t, ft)
	c, err := parseConfig(args, flyEnv(ft.App), io.Discard)
	require.NoError(t, err, "fly.toml's command line is valid launcher flags")
	assert.Equal(t, hs.InternalPort, portOf(t, c.addr), "the launcher listens on the internal port")
	host, _, _ := net.SplitHostPort(c.addr)
	assert.Contains(t, []string{"", "0.0.0.0", "::"}, host, "every interface: Fly's proxy connects over the private network")
	assert.Equal(t, "Fly-Client-IP", c.clientIPHeader)
	assert.Equal(t, "148ed193b95089", c.flyMachineID)
	assert.False(t, c.simulated(), "on Fly, with FLY_API_TOKEN, it launches on Fly")

	for k := range ft.Env {
		assert.False(t, strings.HasPrefix(k, "FLY_"), "Fly refuses [env] names starting with FLY_: %s", k)
	}
	raw, err := os.ReadFile(flyTomlPath)
	require.NoError(t, err)
	for _, secret := range []string{"SECRET_KEY_BASE", "FLY_API_TOKEN"} {
		_, inEnv := ft.Env[secret]
		assert.False(t, inEnv, "%s is a Fly secret, not [env]", secret)
		for line := range strings.Lines(string(raw)) {
			if !strings.HasPrefix(strings.TrimSpace(line), "#") {
				assert.NotContains(t, line, secret, "%s appears only in comments", secret)
			}
		}
	}
}

// TestFlyTomlSettingsServeFly runs the launcher with fly.toml's command
// line on a Fly machine's environment and sends it requests shaped as
// Fly's proxy sends them: it answers to <app>.fly.dev and to the machine's
// address (health checks), refuses other names, takes the client from
// Fly-Client-IP, and names its machine in connection IDs.
func TestFlyTomlSettingsServeFly(t *testing.T) {
	ft := loadFlyToml(t)
	c, err := parseConfig(flyArgs(t, ft), flyEnv(ft.App), io.Discard)
	require.NoError(t, err)
	s := newTestServerWith(t, 1000, func(o *config) {
		o.addr, o.allowedHosts, o.clientIPHeader, o.flyMachineID = c.addr, c.allowedHosts, c.clientIPHeader, c.flyMachineID
	})
	for host, want := range map[string]int{
		ft.App + ".fly.dev":            http.StatusOK,
		"[fdaa:0:1:a7b:1ab:2::2]:8080": http.StatusOK, // a health check to the machine's address
		"attacker.example":             http.StatusMisdirectedRequest,
		"other-app.fly.dev":            http.StatusMisdirectedRequest,
	} {
		assert.Equal(t, want, requestAs(t, s.http.URL, http.MethodGet, "/healthz", host, nil, ""), host)
	}

	h := http.Header{
		"X-Forwarded-For": {"10.66.0.1, 203.0.113.7, 66.241.124.10"}, // forged, client, app
		"Fly-Client-IP":   {"203.0.113.7"},
	}
	ws, _ := dialResumeHeader(t, s.http.URL, "", h)
	ws.read()
	require.True(t, ws.action("launch", map[string]any{"app": "fly-client-ip", "region": "iad", "size": "small"}).OK)
	assert.Contains(t, s.logs.String(), "client=203.0.113.7", "the client is Fly-Client-IP")
	ws.conn.CloseNow()
	assert.True(t, strings.HasPrefix(openStream(t, s.http.URL).conn, c.flyMachineID+"."))
}

// dockerignorePath is the .dockerignore of the launcher's image. The build
// context is the repository root (docker build -f
// example/launcher/deploy/Dockerfile ., or fly deploy run from the root),
// and both Docker and flyctl read .dockerignore at the context's root.
const dockerignorePath = "../../.dockerignore"

// ignoreRule is one .dockerignore line: its pattern's path segments and
// whether it is an exception (!).
type ignoreRule struct {
	segments  []string
	exception bool
}

// parseDockerignore reads .dockerignore lines as Docker documents them:
// # starts a comment, blank lines are skipped, ! makes an exception, and
// each pattern is cleaned (filepath.Clean) with any leading / removed.
func parseDockerignore(src string) []ignoreRule {
	var rules []ignoreRule
	for line := range strings.Lines(src) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		r := ignoreRule{}
		if p, ok := strings.CutPrefix(line, "!"); ok {
			line, r.exception = strings.TrimSpace(p), true
		}
		line = strings.TrimPrefix(filepath.ToSlash(filepath.Clean(line)), "/")
		r.segments = strings.Split(line, "/")
		rules = append(rules, r)
	}
	return rules
}

// ignored reports whether rules leave path (slash-separated, relative to
// the context root) out of the build context: the last rule matching it,
// or one of its parent directories, decides.
func ignored(rules []ignoreRule, path string) bool {
	parts := strings.Split(path, "/")
	out := false
	for _, r := range rules {
		for n := 1; n <= len(parts); n++ {
			if globSegments(r.segments, parts[:n]) {
				out = !r.exception
				break
			}
		}
	}
	return out
}

// globSegments matches name against pattern segment by segment, with
// path/filepath.Match for a segment and ** for any number of directories
// (none included), as Docker does.
func globSegments(pattern, name []string) bool {
	if len(pattern) == 0 {
		return len(name) == 0
	}
	if pattern[0] == "**" {
		for i := 0; i <= len(name); i++ {
			if globSegments(pattern[1:], name[i:]) {
				return true
			}
		}
		return false
	}
	if len(name) == 0 {
		return false
	}
	ok, err := filepath.Match(pattern[0], name[0])
	return err == nil && ok && globSegments(pattern[1:], name[1:])
}

// TestIgnoreMatcher pins the test's .dockerignore matcher to Docker's
// documented rules.
func TestIgnoreMatcher(t *testing.T) {
	rules := parseDockerignore("# a comment\n\n/.git\n**/testdata\n*.md\n!README.md\nbench/\n**/*_test.go\n")
	tests := []struct {
		path string
		want bool
	}{
		{".git", true}, {".git/HEAD", true}, {"sub/.git", false},
		{"testdata", true}, {"a/b/testdata/x.json", true},
		{"NOTES.md", true}, {"README.md", false}, {"docs/x.md", false},
		{"bench/go.mod", true}, {"x_test.go", true}, {"a/b/x_test.go", true}, {"a/x.go", false},
		{"# a comment", false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			assert.Equal(t, tt.want, ignored(rules, tt.path))
		})
	}
}

// TestDockerignore: the image's build context (the repository root) leaves
// out .git, every .data directory (the launcher's default data directory,
// which can hold a generated key base), test data, node_modules, tests and
// the separate bench module, and keeps every file go build reads for the
// launcher (go list: its packages' Go and embedded files, go.mod, go.sum).
func TestDockerignore(t *testing.T) {
	src, err := os.ReadFile(dockerignorePath)
	require.NoError(t, err, "the build context needs a .dockerignore at the repository root")
	rules := parseDockerignore(string(src))

	for _, path := range []string{
		".git", ".git/config", ".data", ".data/sealkit-launcher/key-base",
		"example/launcher/.data/flysim/flysim.json", "resume/testdata/x.json",
		"flylaunch/flysim/testdata/x", "node_modules/x/package.json",
		"hooks/node_modules/x.js", "example/launcher/manage_test.go", "main_test.go",
		"bench/go.mod", "launcher", "example/launcher/launcher",
	} {
		assert.True(t, ignored(rules, path), "%s is left out of the build context", path)
	}

	list := exec.Command("go", "list", "-deps", "-f",
		`{{if and .Module (eq .Module.Path "github.com/sealkit/sealkit")}}{{.Dir}}|{{join .GoFiles ","}}|{{join .EmbedFiles ","}}{{end}}`,
		"./example/launcher")
	list.Dir = "../.."
	list.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := list.Output()
	require.NoError(t, err)
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	needed := []string{"go.mod", "go.sum", "example/launcher/deploy/Dockerfile"}
	for line := range strings.Lines(string(out)) {
		dir, files, ok := strings.Cut(strings.TrimSpace(line), "|")
		if !ok {
			continue
		}
		rel, err := filepath.Rel(root, dir)
		require.NoError(t, err)
		for _, f := range strings.FieldsFunc(files, func(r rune) bool { return r == ',' || r == '|' }) {
			needed = append(needed, filepath.ToSlash(filepath.Join(rel, f)))
		}
	}
	require.Contains(t, needed, "example/launcher/web/manage.js", "go list names embedded files")
	for _, path := range needed {
		assert.False(t, ignored(rules, path), "%s is needed by go build", path)
	}
}
