"""The demo tenant and `acuity-sync demo`: bookings through the local stack, and the books read back."""
