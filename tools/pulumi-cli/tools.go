//go:build tools

// Package tools pins the Pulumi CLI this project runs (ops/pulumi_cli.py builds it from here).
//
// pulumi/pulumi's own pkg/go.mod carries replace directives, so `go install
// github.com/pulumi/pulumi/pkg/v3/cmd/pulumi@vX` is refused. A module of our own that requires
// pkg/v3 and sdk/v3 at the same version builds the same command: Go ignores a dependency's
// replace directives, and go.sum pins every module it needs.
package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
