package kubeapi

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// GatewayAPIChannel selects a release channel of the Gateway API CRDs.
type GatewayAPIChannel string

// Gateway API CRD channels as laid out in the module's config/crd directory.
const (
	ChannelStandard     GatewayAPIChannel = "standard"
	ChannelExperimental GatewayAPIChannel = "experimental"
)

const gatewayAPIModule = "sigs.k8s.io/gateway-api"

var (
	gatewayAPIOnce sync.Once
	gatewayAPIRoot string
	gatewayAPIErr  error
)

// GatewayAPICRDDir returns the directory of the Gateway API CRDs for channel in
// the module cache, at the version go.mod requires. Only files of kind
// CustomResourceDefinition in it are installed by WithCRDs/InstallCRDs.
func GatewayAPICRDDir(channel GatewayAPIChannel) (string, error) {
	gatewayAPIOnce.Do(func() {
		cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", gatewayAPIModule)
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			gatewayAPIErr = fmt.Errorf("locate %s with go list: %w: %s", gatewayAPIModule, err, strings.TrimSpace(stderr.String()))
			return
		}
		gatewayAPIRoot = strings.TrimSpace(string(out))
		if gatewayAPIRoot == "" {
			gatewayAPIErr = fmt.Errorf("locate %s: not downloaded (run go mod download %s)", gatewayAPIModule, gatewayAPIModule)
		}
	})
	if gatewayAPIErr != nil {
		return "", gatewayAPIErr
	}
	dir := filepath.Join(gatewayAPIRoot, "config", "crd", string(channel))
	if _, err := os.Stat(dir); err != nil {
		return "", fmt.Errorf("gateway API CRDs for channel %q: %w", channel, err)
	}
	return dir, nil
}

func gatewayAPIDirOrPanic(channel GatewayAPIChannel) string {
	dir, err := GatewayAPICRDDir(channel)
	if err != nil {
		// Options cannot fail; StartCluster reports a missing path clearly
		// because ErrorIfCRDPathMissing is set.
		return filepath.Join("gateway-api-crds-not-found", string(channel), err.Error())
	}
	return dir
}
