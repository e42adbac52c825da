package suppliertest

import (
	"strings"
	"testing"

	"github.com/dropsync/dropsync/internal/dropsync"
)

// customerData is the personal data of Order and of the suite's purchase orders: no error
// message may repeat it.
var customerData = []string{"Steve", "Shipper", "123 Shipping Street", "Shippington", "40003",
	"555-555-0100", "steve@example.com"}

// Order is a purchase order of the items, in USD, to a deliverable US address. Its customer
// data is what CheckError finds in an error message that repeats it.
func Order(externalID string, items ...dropsync.SupplierItem) dropsync.SupplierOrderRequest {
	return dropsync.SupplierOrderRequest{
		ExternalID: externalID,
		OrderName:  "#1001",
		Currency:   "USD",
		ShippingAddress: dropsync.Address{
			FirstName: "Steve", LastName: "Shipper", Address1: "123 Shipping Street",
			City: "Shippington", Province: "Kentucky", ProvinceCode: "KY", Zip: "40003",
			Country: "United States", CountryCode: "US", Phone: "555-555-0100",
		},
		Email: "steve@example.com",
		Items: items,
	}
}

// CheckError fails unless err has the code (and the reason, when one is wanted), names the
// supplier and repeats no customer data of Order.
func CheckError(t testing.TB, err error, supplier, code, reason string) {
	t.Helper()
	if got := dropsync.ErrorCode(err); got != code {
		t.Fatalf("error code: got %q (%v), want %q", got, err, code)
	}
	if reason != "" {
		if got := dropsync.ErrorReason(err); got != reason {
			t.Errorf("error reason: got %q (%v), want %q", got, err, reason)
		}
	}
	msg := dropsync.ErrorMessage(err)
	if !strings.Contains(msg, "supplier "+supplier) {
		t.Errorf("error message %q does not name supplier %s", msg, supplier)
	}
	for _, pii := range customerData {
		if strings.Contains(msg, pii) {
			t.Errorf("error message %q holds customer data %q", msg, pii)
		}
	}
}
