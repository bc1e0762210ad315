package flylaunch

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestValidateAppName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"ab", true},
		{"my-livebook-1", true},
		{"a" + strings.Repeat("b", 62), true},
		{"a" + strings.Repeat("b", 63), false},
		{"a", false},
		{"", false},
		{"1abc", false},
		{"-abc", false},
		{"abc-", false},
		{"a-", false},
		{"Abc", false},
		{"ab_c", false},
		{"ab.c", false},
		{"ab c", false},
		{"abç", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateAppName(tt.name)
			if tt.ok {
				assert.NoError(t, err)
				return
			}
			var ne *NameError
			require.ErrorAs(t, err, &ne)
			assert.Equal(t, tt.name, ne.Name)
			assert.ErrorIs(t, err, ErrInvalidAppName)
			assert.ErrorIs(t, err, ErrInvalidSpec)
		})
	}
}

func FuzzValidateAppName(f *testing.F) {
	for _, s := range []string{"ab", "my-livebook", "1ab", "-", "", "ab_c", strings.Repeat("a", 64), "a\x00b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		err := ValidateAppName(name)
		if err != nil {
			return
		}
		// Accepted names obey every rule and are valid DNS labels.
		require.GreaterOrEqual(t, len(name), 2)
		require.LessOrEqual(t, len(name), 63)
		require.True(t, name[0] >= 'a' && name[0] <= 'z')
		require.NotEqual(t, byte('-'), name[len(name)-1])
		for _, c := range name {
			require.True(t, c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-', "%q", c)
		}
	})
}

func TestSpecValidate(t *testing.T) {
	base := testSpec("valid-livebook")
	tests := []struct {
		name  string
		mod   func(*Spec)
		field string // "" means valid; "App" means a NameError
	}{
		{"defaults", func(*Spec) {}, ""},
		{"2x with 2 GB", func(s *Spec) { s.Size, s.MemoryMB = "shared-cpu-2x", 2048 }, ""},
		{"performance", func(s *Spec) { s.Size, s.MemoryMB = "performance-1x", 4096 }, ""},
		{"bad name", func(s *Spec) { s.App = "Bad" }, "App"},
		{"bad org", func(s *Spec) { s.Org = "Org!" }, "Org"},
		{"no region", func(s *Spec) { s.Region = "" }, "Region"},
		{"long region", func(s *Spec) { s.Region = "amst" }, "Region"},
		{"image with space", func(s *Spec) { s.Image = "a b" }, "Image"},
		{"image untagged", func(s *Spec) { s.Image = "ghcr.io/livebook-dev/livebook" }, "Image"},
		{"image latest", func(s *Spec) { s.Image = "ghcr.io/livebook-dev/livebook:latest" }, "Image"},
		{"registry port, no tag", func(s *Spec) { s.Image = "registry.local:5000/livebook" }, "Image"},
		{"image tagged", func(s *Spec) { s.Image = "ghcr.io/livebook-dev/livebook:0.19.7" }, ""},
		{"image by digest", func(s *Spec) {
			s.Image = "ghcr.io/livebook-dev/livebook@sha256:38eed8467d3df794dd36cbe722768e46d709b02e00368e0a06aa7508220a8763"
		}, ""},
		{"volume too small", func(s *Spec) { s.VolumeSizeGB = -1 }, "VolumeSizeGB"},
		{"volume too big", func(s *Spec) { s.VolumeSizeGB = 501 }, "VolumeSizeGB"},
		{"unknown size", func(s *Spec) { s.Size = "huge" }, "Size"},
		{"memory too small", func(s *Spec) { s.MemoryMB = 128 }, "MemoryMB"},
		{"memory not multiple", func(s *Spec) { s.MemoryMB = 1000 }, "MemoryMB"},
		{"memory too big", func(s *Spec) { s.MemoryMB = 4096 }, "MemoryMB"},
		{"port", func(s *Spec) { s.InternalPort = 70000 }, "InternalPort"},
		{"health path", func(s *Spec) { s.HealthPath = "health" }, "HealthPath"},
		{"restart", func(s *Spec) { s.Restart = "sometimes" }, "Restart"},
		{"env name", func(s *Spec) { s.Env = map[string]string{"A-B": "x"} }, "Env"},
		{"secret name", func(s *Spec) { s.Secrets = Secrets{"1X": "x"} }, "Secrets"},
		{"secret also in env", func(s *Spec) { s.Env = map[string]string{"LIVEBOOK_PASSWORD": "x"} }, "Secrets"},
		{"key base too short", func(s *Spec) { s.Secrets = Secrets{LivebookKeyBase: strings.Repeat("k", 63)} }, "Secrets"},
		{"key base of 64", func(s *Spec) { s.Secrets = Secrets{LivebookKeyBase: strings.Repeat("k", 64)} }, ""},
		{"key base in env", func(s *Spec) { s.Env = map[string]string{LivebookKeyBase: strings.Repeat("k", 64)} }, "Env"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := base
			tt.mod(&s)
			err := s.Validate()
			switch tt.field {
			case "":
				assert.NoError(t, err)
			case "App":
				assert.ErrorIs(t, err, ErrInvalidAppName)
			default:
				var se *SpecError
				require.ErrorAs(t, err, &se)
				assert.Equal(t, tt.field, se.Field)
				assert.ErrorIs(t, err, ErrInvalidSpec)
				assert.NotContains(t, err.Error(), testPassword)
			}
		})
	}
}

func TestValidateImage(t *testing.T) {
	for _, tt := range []struct {
		image string
		ok    bool
	}{
		{DefaultImage, true},
		{"ghcr.io/livebook-dev/livebook:0.19.7", true},
		{"ghcr.io/livebook-dev/livebook@sha256:38eed8467d3df794dd36cbe722768e46d709b02e00368e0a06aa7508220a8763", true},
		{"registry.local:5000/livebook:1.2", true},
		{"", false},
		{"a b:1", false},
		{"livebook:1\n", false},
		{"ghcr.io/livebook-dev/livebook", false},
		{"ghcr.io/livebook-dev/livebook:latest", false},
		{"ghcr.io/livebook-dev/livebook:", false},
		{"registry.local:5000/livebook", false},
	} {
		t.Run(tt.image, func(t *testing.T) {
			err := ValidateImage(tt.image)
			if tt.ok {
				assert.NoError(t, err)
				return
			}
			var se *SpecError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, "Image", se.Field)
			assert.ErrorIs(t, err, ErrInvalidSpec)
		})
	}
}

func TestSecretsNeverPrinted(t *testing.T) {
	s := testSpec("quiet-livebook")
	var logs syncBuffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("spec", "spec", s, "secrets", s.Secrets)
	for _, out := range []string{
		fmt.Sprint(s), fmt.Sprintf("%v", s.Secrets), fmt.Sprintf("%+v", s), fmt.Sprintf("%#v", s),
		fmt.Sprintf("%s", s.Secrets), fmt.Sprintf("%q", s.Secrets), logs.String(),
	} {
		assert.NotContains(t, out, testPassword)
	}
	assert.Equal(t, "Secrets{LIVEBOOK_PASSWORD=REDACTED}", fmt.Sprint(s.Secrets))
}

// TestRecordGolden pins the Record's JSON form, which callers seal and
// keep: changing it breaks resumes of deploys already in flight. The first
// file is a record from before launches had a volume, which must still
// decode and validate.
func TestRecordGolden(t *testing.T) {
	rec := Record{
		LaunchID: "0123456789abcdef0123456789abcdef", App: "golden-livebook", Org: "personal", Region: "ams",
		MachineID: "e784079b449483", SecretsVersion: 3, Step: StepLaunch,
	}
	withVolume := rec
	withVolume.VolumeID = "vol_4vjnk9mxg2r3p8yw"
	withAppIDs := withVolume
	withAppIDs.AppID, withAppIDs.AppNumericID, withAppIDs.AppCreated = "5f2a7c1e9b3d4a6f8e0c", 1234567, true
	for file, rec := range map[string]Record{"record.golden.json": rec, "record-volume.golden.json": withVolume, "record-appid.golden.json": withAppIDs} {
		t.Run(file, func(t *testing.T) {
			got, err := json.MarshalIndent(rec, "", "  ")
			require.NoError(t, err)
			path := filepath.Join("testdata", file)
			if os.Getenv("UPDATE_GOLDEN") == "1" {
				require.NoError(t, os.WriteFile(path, append(got, '\n'), 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.JSONEq(t, string(want), string(got))
			var back Record
			require.NoError(t, json.Unmarshal(want, &back))
			assert.Equal(t, rec, back)
			assert.NoError(t, back.Validate())
		})
	}
}

func TestRecordValidate(t *testing.T) {
	good := Record{LaunchID: strings.Repeat("ab", 16), App: "rec-livebook", Org: "personal", Region: "ams"}
	tests := []struct {
		name  string
		mod   func(*Record)
		field string
	}{
		{"fresh", func(*Record) {}, ""},
		{"launched", func(r *Record) { r.Step, r.MachineID = StepLaunch, "e784079b449483" }, ""},
		{"short launch id", func(r *Record) { r.LaunchID = "abc" }, "LaunchID"},
		{"upper launch id", func(r *Record) { r.LaunchID = strings.Repeat("AB", 16) }, "LaunchID"},
		{"bad app", func(r *Record) { r.App = "-x" }, "App"},
		{"bad org", func(r *Record) { r.Org = "" }, "Org"},
		{"bad region", func(r *Record) { r.Region = "x" }, "Region"},
		{"unknown step", func(r *Record) { r.Step = "teleport" }, "Step"},
		{"launched without machine", func(r *Record) { r.Step = StepStarted }, "MachineID"},
		{"bad machine id", func(r *Record) { r.MachineID = "../etc" }, "MachineID"},
		{"with volume", func(r *Record) { r.Step, r.VolumeID = StepVolume, "vol_4vjnk9mxg2r3p8yw" }, ""},
		{"volume step without volume", func(r *Record) { r.Step = StepVolume }, "VolumeID"},
		{"bad volume id", func(r *Record) { r.VolumeID = "4vjnk9mxg2r3p8yw" }, "VolumeID"},
		{"bad volume id chars", func(r *Record) { r.VolumeID = "vol_../x" }, "VolumeID"},
		{"app ids", func(r *Record) { r.AppID, r.AppNumericID = "5f2a7c1e9b3d4a6f8e0c", 1234567 }, ""},
		{"app id without numeric id (older record)", func(r *Record) { r.AppID = "5f2a7c1e9b3d4a6f8e0c" }, ""},
		{"numeric id without app id", func(r *Record) { r.AppNumericID = 1234567 }, "AppNumericID"},
		{"negative numeric id", func(r *Record) { r.AppID, r.AppNumericID = "x", -1 }, "AppNumericID"},
		{"numeric id past int32", func(r *Record) { r.AppID, r.AppNumericID = "x", 1<<31 }, "AppNumericID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := good
			tt.mod(&r)
			err := r.Validate()
			switch tt.field {
			case "":
				assert.NoError(t, err)
			case "App":
				assert.ErrorIs(t, err, ErrInvalidAppName)
			default:
				var se *SpecError
				require.ErrorAs(t, err, &se)
				assert.Equal(t, tt.field, se.Field)
			}
		})
	}
}

// FuzzRecord feeds arbitrary JSON to a Record: decoding and validating
// never panic, and a valid record survives a round trip.
func FuzzRecord(f *testing.F) {
	seed, err := os.ReadFile(filepath.Join("testdata", "record.golden.json"))
	require.NoError(f, err)
	f.Add(seed)
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"launch_id":"x","step":"nope"}`))
	f.Add([]byte(`{"launch_id":"0123456789abcdef0123456789abcdef","app":"ab","org":"o","region":"iad"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var r Record
		if json.Unmarshal(data, &r) != nil {
			return
		}
		if r.Validate() != nil {
			return
		}
		b, err := json.Marshal(r)
		require.NoError(t, err)
		var back Record
		require.NoError(t, json.Unmarshal(b, &back))
		require.Equal(t, r, back)
		require.NoError(t, back.Validate())
	})
}

func TestRetryDelayFullJitter(t *testing.T) {
	p := RetryPolicy{MaxAttempts: 5, BaseDelay: 10 * time.Millisecond, MaxDelay: 100 * time.Millisecond}
	tests := []struct {
		attempt int
		ceiling time.Duration
	}{
		{0, 10 * time.Millisecond},
		{1, 20 * time.Millisecond},
		{3, 80 * time.Millisecond},
		{4, 100 * time.Millisecond},
		{70, 100 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.attempt), func(t *testing.T) {
			var maxSeen time.Duration
			for range 2000 {
				d := p.Delay(tt.attempt)
				require.GreaterOrEqual(t, d, time.Duration(0))
				require.Less(t, d, tt.ceiling)
				maxSeen = max(maxSeen, d)
			}
			assert.Greater(t, maxSeen, tt.ceiling/2, "jitter spans the range")
		})
	}
}

func TestNewValidatesOptions(t *testing.T) {
	e := newSimEnv(t, envOptions{})
	tests := []struct {
		name string
		opts Options
	}{
		{"negative timeout", Options{Client: e.client, CallTimeout: -1}},
		{"negative attempts", Options{Client: e.client, Retry: RetryPolicy{MaxAttempts: -1}}},
		{"base above max", Options{Client: e.client, Retry: RetryPolicy{BaseDelay: time.Second, MaxDelay: time.Millisecond}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.opts)
			assert.ErrorIs(t, err, ErrInvalidOptions)
		})
	}
	_, err := NewClient(t.Context(), "", nil)
	assert.ErrorIs(t, err, ErrInvalidSpec)
}

// TestLauncherWithoutClient: a Launcher with no token of its own runs
// nothing itself, and everything As a client.
func TestLauncherWithoutClient(t *testing.T) {
	e := newSimEnv(t, envOptions{})
	l := e.launcher(t, func(o *Options) { o.Client = nil })
	_, err := l.Start(waitCtx(t), testSpec("no-client"))
	assert.ErrorIs(t, err, ErrNoClient)
	_, err = l.Resume(waitCtx(t), testSpec("no-client"), Record{LaunchID: strings.Repeat("a", 32), App: "no-client", Org: "personal", Region: "ams"})
	assert.ErrorIs(t, err, ErrNoClient)
	_, err = l.Livebook(Record{LaunchID: strings.Repeat("a", 32), App: "no-client", Org: "personal", Region: "ams"})
	assert.ErrorIs(t, err, ErrNoClient)
	d, err := l.As(e.client).Start(waitCtx(t), testSpec("no-client"))
	require.NoError(t, err)
	_, err = d.Wait(waitCtx(t))
	require.NoError(t, err)
}
