package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/dropsync/dropsync/connectors/shopify/shopifytest"
	"github.com/dropsync/dropsync/internal/dropsync"
)

// A full run's logs hold none of the customer's data, and every pipeline line about an order
// names the shop, the order and the task.
func TestLogsCarryIDsAndNoCustomerData(t *testing.T) {
	w := newWorld(t, worldOpts{})
	const id = 9001
	o := multiSupplierOrder(id, shopifytest.WithLines(
		shopifytest.LineSpec{SKU: "TSHIRT-RED-M", VariantID: 11, Quantity: 1, Price: d("19.90"),
			Properties: []shopifytest.Property{{Name: "Engraving", Value: "Für Zoë"}}},
		shopifytest.LineSpec{SKU: "MUG-SET", VariantID: 22, Quantity: 1, Price: d("14.00")},
	))
	w.addOrder(o, "orders/create")
	w.waitState(id, "forwarded")
	must(t, w.acme.Ship(dropsync.POID(testShop, id, "acme")))
	must(t, w.beta.Ship(dropsync.POID(testShop, id, "beta")))
	w.waitState(id, "fulfilled")
	w.eventually("invoice", func() bool { return w.order(id).InvoiceNumber != nil }, nil)
	// A bad delivery is logged too (with a valid signature but a broken body).
	w.deliver("orders/updated", []byte(`{"id": 9001, "email": "`+o.Email+`"`), "")

	logs := w.logs.String()
	if !strings.Contains(logs, "order_id") {
		t.Fatal("no log line names an order: the log capture is broken")
	}
	sh := o.ShippingAddress
	for _, secret := range []string{o.Email, o.Phone, sh.FirstName, sh.LastName, sh.Address1, sh.Zip, sh.City, "Für Zoë"} {
		if secret == "" {
			continue
		}
		for _, form := range []string{secret, jsonEscaped(secret)} {
			if strings.Contains(logs, form) {
				t.Errorf("the logs hold customer data %q", secret)
			}
		}
	}
	sc := bufio.NewScanner(bytes.NewReader(w.logs.Bytes()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	lines := 0
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("log line is not JSON: %s", sc.Text())
		}
		if line["component"] == "pipeline" && line["order_id"] != nil {
			lines++
			if line["shop"] == nil || line["task_id"] == nil {
				t.Errorf("pipeline log line without shop or task id: %s", sc.Text())
			}
		}
	}
	if lines == 0 {
		t.Fatal("no pipeline log line about the order")
	}
}
