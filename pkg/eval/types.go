package eval

// Metrics are the four scores of the paper's tables computed from one
// predictive distribution over the whole test set.
type Metrics struct {
	Accuracy float64 `json:"acc"`   // percent
	NLL      float64 `json:"nll"`   // true mean negative log-likelihood
	ECE      float64 `json:"ece"`   // 20 closed bins
	AUROC    float64 `json:"auroc"` // misclassification detection, 2499 thresholds
}

// Bin is one bin of a reliability diagram.
type Bin struct {
	Lower      float64 `json:"lo"`
	Upper      float64 `json:"hi"`
	Count      int     `json:"count"`
	Confidence float64 `json:"conf"` // mean max-probability in the bin
	Accuracy   float64 `json:"acc"`  // fraction correct in the bin
}
