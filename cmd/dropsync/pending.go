package main

import (
	"context"
	"errors"
	"io"

	"github.com/dropsync/dropsync/internal/config"
	"github.com/dropsync/dropsync/internal/httpapi"
	"github.com/dropsync/dropsync/internal/redisstore"
	"github.com/dropsync/dropsync/jobs"
)

// PENDING: replaced in this session before landing.

func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("pending")
}
func cmdMappings(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("pending")
}
func cmdInvoices(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("pending")
}
func cmdShopify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("pending")
}
func cmdBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("pending")
}
func newInvoicer(s *redisstore.Store, cfg *config.Config) jobs.Invoicer { return nil }

func invoiceStore(s *redisstore.Store) httpapi.Invoices { return nil }
