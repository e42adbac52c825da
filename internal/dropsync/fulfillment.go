package dropsync

// FulfillmentRequest asks the storefront to record one parcel as a fulfillment of an order:
// the storefront lines and quantities it completes and its tracking. The tracking number is
// the fulfillment's identity: a storefront must not record two fulfillments with one number.
type FulfillmentRequest struct {
	Shop           string
	OrderID        int64
	Lines          []LineUnits
	Carrier        string
	TrackingNumber string
	TrackingURL    string
	NotifyCustomer bool
}

// Fulfillment is a storefront fulfillment dropsync recorded (or found already recorded).
type Fulfillment struct {
	// ID is the first fulfillment, IDs all of them: a parcel whose lines sit at several
	// storefront locations becomes one fulfillment per location.
	ID             int64
	IDs            []int64
	TrackingNumber string
	// Existing is set when the fulfillment was already there, so nothing was created.
	Existing bool
}
