package main

import (
	"context"
	"errors"
	"io"
)

// PENDING: replaced in this session before landing.

func cmdBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("pending")
}
