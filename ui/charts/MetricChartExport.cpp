// MetricChart's exports: the chart as PNG (2x) or SVG, its points as CSV.
#include "charts/MetricChart.h"
#include "charts/SeriesBuffer.h"

#include <QImage>
#include <QPainter>
#include <QSaveFile>
#include <QSvgGenerator>
#include <QTextStream>

#include <utility>

namespace Kiln::Ui {

bool MetricChart::exportPng(const QString& path) {
    if (m_dirty)
        rebuild();
    QImage image(size() * 2, QImage::Format_ARGB32_Premultiplied);
    image.setDevicePixelRatio(2);
    QPainter p(&image);
    const QString hover = std::exchange(m_hoverText, QString());
    paintChart(p, rect());
    m_hoverText = hover;
    p.end();
    return image.save(path, "PNG");
}

bool MetricChart::exportSvg(const QString& path) {
    if (m_dirty)
        rebuild();
    QSvgGenerator svg;
    svg.setFileName(path);
    svg.setSize(size());
    svg.setViewBox(rect());
    svg.setTitle(m_title);
    QPainter p;
    if (!p.begin(&svg))
        return false;
    const QString hover = std::exchange(m_hoverText, QString());
    paintChart(p, rect());
    m_hoverText = hover;
    return p.end();
}

bool MetricChart::exportCsv(const QString& path) const {
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Text))
        return false;
    QTextStream out(&file);
    out << "run,series,step,time,value\n";
    for (int i = 0; i < curveCount(); ++i) {
        const auto& spec = curve(i);
        const auto& d = *spec.data;
        QString label = spec.label;
        label.replace(QLatin1Char('"'), QStringLiteral("\"\""));
        for (std::size_t k = 0; k < d.size(); ++k)
            out << spec.run << ",\"" << label << "\"," << static_cast<qint64>(d.steps[k]) << ','
                << QString::number(d.times[k], 'f', 3) << ',' << QString::number(d.values[k], 'g', 17)
                << '\n';
    }
    out.flush();
    return file.commit();
}

} // namespace Kiln::Ui
