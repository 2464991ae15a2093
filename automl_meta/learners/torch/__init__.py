"""torch-based learners. Importing this package does not import torch; its modules do."""
