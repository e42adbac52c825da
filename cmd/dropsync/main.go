// Command dropsync is dropsync's one binary: the order-automation engine (run, serve, work),
// its demo, and the operator's tools (check-config, mappings, invoices, shopify).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"

	"github.com/dropsync/dropsync/internal/config"
)

const usage = `dropsync: order automation for dropshipping merchants

Usage:
  dropsync <command> [flags]

Commands:
  run            HTTP, workers and scheduler in one process (the default)
  serve          HTTP only: webhooks, callbacks, admin API, dashboard, metrics
  work           workers and scheduler only
  demo           a whole simulated store flowing through the real pipeline
  check-config   validate a config and list every problem by key
  mappings       import|export a shop's supplier mappings CSV
  invoices       export issued invoices as CSV for the accountant
  shopify        subscribe: register the webhooks dropsync needs for a shop
  bench          measure intake and end-to-end throughput against baselines
  version        print the version

Flags (after the command):
  --config PATH  config file (default configs/dropsync.yaml, env DROPSYNC_CONFIG)

Run "dropsync <command> --help" for a command's flags.
`

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// After the first signal, a second one stops the process at once.
	context.AfterFunc(ctx, stop)
	err := runCommand(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintln(os.Stderr, "dropsync:", err)
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "dropsync:", err)
		os.Exit(1)
	}
}

// usageError is a mistake on the command line.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// runCommand dispatches a command line.
func runCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	// A global --config before the command is accepted too.
	var global []string
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		global = append(global, args[0])
		args = args[1:]
		if len(args) > 0 && !strings.Contains(global[len(global)-1], "=") && !strings.HasPrefix(args[0], "-") &&
			(global[len(global)-1] == "--config" || global[len(global)-1] == "-config") {
			global = append(global, args[0])
			args = args[1:]
		}
		if g := global[len(global)-1]; g == "-h" || g == "--help" || g == "-help" {
			fmt.Fprint(stdout, usage)
			return nil
		}
	}
	cmd := "run"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	args = append(global, args...)
	switch cmd {
	case "run", "serve", "work":
		return cmdServe(ctx, Mode(cmd), args, stderr)
	case "demo":
		return cmdDemo(ctx, args, stdout, stderr)
	case "check-config":
		return cmdCheckConfig(args, stdout, stderr)
	case "mappings":
		return cmdMappings(ctx, args, stdout, stderr)
	case "invoices":
		return cmdInvoices(ctx, args, stdout, stderr)
	case "shopify":
		return cmdShopify(ctx, args, stdout, stderr)
	case "bench":
		return cmdBench(ctx, args, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "dropsync", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return usageError{fmt.Sprintf("unknown command %q\n\n%s", cmd, usage)}
}

// configFlag adds --config to a command's flags.
func configFlag(fs *flag.FlagSet) *string {
	def := os.Getenv("DROPSYNC_CONFIG")
	if def == "" {
		def = "configs/dropsync.yaml"
	}
	return fs.String("config", def, "config file (env DROPSYNC_CONFIG)")
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	return nil
}

// loadConfig reads and validates the config; every problem is in the error.
func loadConfig(path string) (*config.Config, error) {
	cfg, err := config.Load(path, os.LookupEnv)
	if err != nil {
		var probs *config.Problems
		if errors.As(err, &probs) {
			return nil, fmt.Errorf("config %s has problems:\n%s", path, probs.Error())
		}
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

// newLogger builds the one logger: JSON by default, console on a terminal, UTC times.
func newLogger(cfg config.Log, w io.Writer) zerolog.Logger {
	zerolog.TimestampFunc = func() time.Time { return time.Now().UTC() }
	zerolog.TimeFieldFormat = time.RFC3339Nano
	level, err := zerolog.ParseLevel(cfg.Level)
	if err != nil || cfg.Level == "" {
		level = zerolog.InfoLevel
	}
	out := w
	console := cfg.Format == "console"
	if cfg.Format == "" || cfg.Format == "auto" {
		if f, ok := w.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
			console = true
		}
	}
	if console {
		out = zerolog.ConsoleWriter{Out: w, TimeFormat: "15:04:05"}
	}
	return zerolog.New(out).Level(level).With().Timestamp().Logger()
}

// cmdServe runs dropsync until SIGINT/SIGTERM, then shuts down gracefully.
func cmdServe(ctx context.Context, mode Mode, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet(string(mode), flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := configFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(*path)
	if err != nil {
		return err
	}
	log := newLogger(cfg.Log, stderr)
	m := NewMain(cfg, mode, log)
	if err := m.Run(ctx); err != nil {
		_ = m.Close()
		return err
	}
	var runErr error
	select {
	case <-ctx.Done():
		log.Info().Msg("stop signal received: finishing running tasks")
	case runErr = <-m.Errors():
		log.Error().Err(runErr).Msg("a component stopped")
	}
	if err := m.Close(); err != nil && runErr == nil {
		runErr = err
	}
	log.Info().Msg("dropsync stopped")
	return runErr
}

// cmdCheckConfig validates a config and lists every problem.
func cmdCheckConfig(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("check-config", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := configFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(*path)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "config %s is valid\n%s", *path, cfg.Summary())
	return nil
}
