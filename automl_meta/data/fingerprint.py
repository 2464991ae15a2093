"""A content fingerprint of a dataset, stable under row order."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd


def dataset_fingerprint(X: pd.DataFrame, y: pd.Series) -> str:
    """Return a hex SHA-256 of the dataset's values.

    Each row (features and target, column names ignored) is hashed, the row hashes are
    sorted, and the sorted list is hashed, so the same data shipped with other column names
    or in another row order gets the same fingerprint.

    Parameters
    ----------
    X : DataFrame
        The features.
    y : Series
        The target.

    Examples
    --------
    >>> import pandas as pd
    >>> a = dataset_fingerprint(pd.DataFrame({"x": [1, 2]}), pd.Series([0, 1]))
    >>> b = dataset_fingerprint(pd.DataFrame({"z": [2, 1]}), pd.Series([1, 0]))
    >>> a == b
    True
    """
    frame = X.copy()
    frame.columns = [f"c{i}" for i in range(frame.shape[1])]
    frame["__target__"] = np.asarray(y)
    frame = frame.reset_index(drop=True)
    rows = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    digest = hashlib.sha256(np.sort(rows).tobytes())
    digest.update(f"{frame.shape}".encode())
    return digest.hexdigest()
