package secret

import (
	"os"
	"path/filepath"
	"testing"
)

func TestResolve(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "pw")
	if err := os.WriteFile(file, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("EW_SECRET_TEST", "from-env")
	tests := []struct {
		name, inline, file, want, wantErr string
	}{
		{name: "inline", inline: "plain", want: "plain"},
		{name: "env", inline: "${EW_SECRET_TEST}", want: "from-env"},
		{name: "env inside text is literal", inline: "x${EW_SECRET_TEST}", want: "x${EW_SECRET_TEST}"},
		{name: "file", file: file, want: "from-file"},
		{name: "unset env", inline: "${EW_SECRET_UNSET_X}", wantErr: "kafka.sasl.password: environment variable EW_SECRET_UNSET_X is not set"},
		{name: "both", inline: "a", file: file, wantErr: "kafka.sasl.password: set either password or password_file, not both"},
		{name: "missing file", file: filepath.Join(dir, "nope"), wantErr: "kafka.sasl.password_file: read secret: open " + filepath.Join(dir, "nope") + ": no such file or directory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Resolve("kafka.sasl.password", tc.inline, tc.file)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
