#pragma once
#include <QList>
#include <QStringList>
#include <QVariant>
#include <QWidget>

#include <optional>
#include <utility>

namespace Kiln::Ui {

// A parallel-coordinates chart of a sweep: one vertical axis per parameter plus the primary metric, one line
// per trial, coloured by its metric (dark blue worst, orange best; grey without one). Drag along an axis to
// brush a range: trials outside every brush turn pale and brushChanged() lets a table filter on accepts().
// Double-click an axis (or press Escape) to clear its brush. Painted with QPainter; numbers on a log axis
// (a log-scale parameter) are spaced by their logarithms, words by their order.
class ParallelCoordinates final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ParallelCoordinates)
public:
    struct Axis {
        QString name;
        bool log = false;
    };
    explicit ParallelCoordinates(QWidget* parent = nullptr);

    // rows[i][a] is trial i's value on axis a (a number, a word, or null); the last axis is the metric, whose
    // goal decides the colours. `dimmed` rows (stopped early) are drawn thinner.
    void setData(const QList<Axis>& axes, const QList<QList<QVariant>>& rows, const QList<bool>& dimmed,
                 bool maximize);
    int axisCount() const { return static_cast<int>(m_axes.size()); }
    bool accepts(int row) const;
    // A brush in the axis' own units from lo to hi (a range of positions 0..1 for words); nullopt clears it.
    void setBrush(int axis, std::optional<std::pair<double, double>> range);
    QRect axisRect(int axis) const; // where axis `axis` is drawn (for tests that drag along it)

    QSize sizeHint() const override { return {640, 260}; }

Q_SIGNALS:
    void brushChanged();

protected:
    void paintEvent(QPaintEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;
    void mouseDoubleClickEvent(QMouseEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;

private:
    struct Scale {
        bool words = false;
        QStringList categories;
        double lo = 0, hi = 1;
    };
    double position(int axis, const QVariant& v) const; // 0 (bottom) .. 1 (top); NaN for nothing
    double toPosition(int axis, double y) const;        // from a pixel row
    int axisAt(int x) const;
    QString label(int axis, double position) const;
    QRect plotArea() const;

    QList<Axis> m_axes;
    QList<Scale> m_scales;
    QList<QList<QVariant>> m_rows;
    QList<bool> m_dimmed;
    bool m_maximize = true;
    QList<std::optional<std::pair<double, double>>> m_brush; // positions 0..1
    int m_dragAxis = -1;
    double m_dragFrom = 0;
};

} // namespace Kiln::Ui
